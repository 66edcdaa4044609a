/**
 * The inbox makes a consumer idempotent: the handler's writes and the record "this consumer processed event
 * X" (a row in `flotilla_inbox`, primary key consumer + event id) commit in one transaction. A redelivered
 * event finds its row and is reported as a duplicate without running the handler again; the caller
 * acknowledges it. Concurrent deliveries of one event are decided by the primary key: the second insert waits
 * for the first transaction, then does nothing if it committed, or proceeds if it rolled back.
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../database/index.js';
import type { EventEnvelope } from '../messaging/envelope.js';

/** Options of {@link createInbox}. */
export interface InboxOptions<DB> {
  /** The service database that holds `flotilla_inbox` and the handler's own tables. */
  readonly database: Database<DB>;
  /**
   * Name of the consuming handler, e.g. `orders.payment-events`. Each consumer of an event processes it once:
   * two consumers in one service that handle the same event need different names.
   */
  readonly consumer: string;
}

/** What {@link Inbox.handle} did: ran the handler (`duplicate: false`) or skipped an event already processed. */
export type InboxOutcome<T> =
  { readonly duplicate: false; readonly result: T } | { readonly duplicate: true };

/** The event fields the inbox needs: its id (de-duplication key) and, for diagnostics, its type. */
export type InboxEvent = Pick<EventEnvelope, 'id'> & Partial<Pick<EventEnvelope, 'type'>>;

export interface Inbox<DB> {
  /**
   * Runs `handler` in a transaction together with recording `event.id` as processed, unless it was processed
   * before. If the handler throws, nothing is recorded (the event stays unprocessed, so a redelivery retries
   * it) and the error is rethrown. Write through `trx` only: writes through another connection are not part
   * of the transaction.
   */
  handle<T>(event: InboxEvent, handler: (trx: Transaction<DB>) => Promise<T>): Promise<InboxOutcome<T>>;
  /** True when this consumer has processed `eventId`. */
  processed(eventId: string): Promise<boolean>;
  /**
   * Deletes this consumer's records older than `before` and returns how many. Keep them longer than the
   * longest time a duplicate can arrive (SQS retention is at most 14 days). A service on `useDatabase` need
   * not call it: its retention deletes every consumer's records after `INBOX_RETENTION_HOURS` (15 days by
   * default; see `startRetention`).
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
   */
  prune(before: Date): Promise<number>;
}

/** Creates the inbox of one consumer. */
export function createInbox<DB>(options: InboxOptions<DB>): Inbox<DB> {
  const { database, consumer } = options;
  if (typeof consumer !== 'string' || consumer.trim() === '') {
    throw new Error(
      `createInbox: consumer must be a non-empty name such as 'orders.payment-events' (got ${JSON.stringify(consumer)}).`,
    );
  }
  return {
    async handle(event, handler) {
      if (typeof event?.id !== 'string' || event.id === '') {
        throw new Error(
          `inbox '${consumer}': the event has no id (got ${JSON.stringify(event?.id)}); the envelope's id is the de-duplication key.`,
        );
      }
      return database.transaction<InboxOutcome<Awaited<ReturnType<typeof handler>>>>(async (trx) => {
        const claimed = await sql<{ event_id: string }>`
          insert into flotilla_inbox (consumer, event_id, event_type)
          values (${consumer}, ${event.id}, ${event.type ?? null})
          on conflict (consumer, event_id) do nothing
          returning event_id`.execute(trx);
        if (claimed.rows.length === 0) return { duplicate: true };
        return { duplicate: false, result: await handler(trx) };
      });
    },
    async processed(eventId) {
      const { rows } = await sql<{ found: boolean }>`
        select exists (select 1 from flotilla_inbox where consumer = ${consumer} and event_id = ${eventId}) as found`.execute(
        database.db,
      );
      return rows[0]?.found === true;
    },
    async prune(before) {
      const result = await sql`
        delete from flotilla_inbox where consumer = ${consumer} and processed_at < ${before}`.execute(
        database.db,
      );
      return Number(result.numAffectedRows ?? 0n);
    },
  };
}
