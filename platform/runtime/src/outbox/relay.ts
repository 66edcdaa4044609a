/**
 * The outbox relay: publishes committed outbox rows in sequence order, in batches of up to 10, marks them
 * sent, and retries failed ones with exponential backoff. It never skips a row: while a row waits for its
 * retry, later rows for the same destination wait too, so each destination sees events in the order they
 * were written (within one batch the publisher may deliver entries in parallel).
 *
 * A crash between commit and publish loses nothing (the row stays pending); a crash between publish and
 * "mark sent" publishes the row again, and the consumer's inbox absorbs the duplicate.
 *
 * Replicas: on a PostgreSQL server each batch runs in a transaction that first takes
 * `pg_try_advisory_xact_lock` (one relay at a time, so order holds across replicas) and then locks its rows
 * `FOR UPDATE SKIP LOCKED`. PGlite is one process, so there the batch runs without holding a transaction
 * across the publish call (which would block every other query of the service meanwhile).
 * @see https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database/index.js';
import { equalJitterDelay } from '../messaging/backoff.js';
import { MAX_BATCH_ENTRIES as MAX_BATCH } from '../messaging/delivery.js';
import type { EventEnvelope } from '../messaging/envelope.js';
import { errorMessage, type Lifecycle, type Logger } from '../kit.js';
import type { OutboxMessage, OutboxPublish, OutboxPublishResult } from './message.js';
import { onOutboxCommit } from './signal.js';

/** Second key of the relay's advisory lock is a hash of the schema; this is the first. */
const RELAY_LOCK_CLASS = 0x6f7574; // "out"

/** Retry policy for rows whose publish failed. */
export interface OutboxRetryOptions {
  /** Delay before the first retry; doubles per attempt, with jitter. @default 1000 */
  readonly baseDelayMs?: number;
  /** Upper bound of the delay. @default 60000 */
  readonly maxDelayMs?: number;
}

/** Options of {@link startOutboxRelay}. */
export interface OutboxRelayOptions<DB> {
  readonly database: Database<DB>;
  /** Delivers a batch; see {@link OutboxPublish}. */
  readonly publish: OutboxPublish;
  readonly log: Logger;
  /** When given, stopping the relay is registered as the stop hook `outbox-relay`. */
  readonly lifecycle?: Lifecycle;
  /**
   * Polling interval: the safety net behind the immediate wake-up after each commit (rows written by
   * another replica, or outside `database.transaction()`).
   * @default 1000
   */
  readonly intervalMs?: number;
  /** Rows per publish call, 1-10. @default 10 */
  readonly batchSize?: number;
  readonly retry?: OutboxRetryOptions;
  /**
   * How long sent rows are kept (for inspection) before the relay deletes them.
   * @default 86400000 (24 h)
   */
  readonly keepSentMs?: number;
}

/** Counters since start. */
export interface OutboxRelayStats {
  readonly published: number;
  readonly failed: number;
  readonly batches: number;
}

export interface OutboxRelay {
  /** Asks for a publish round now (coalesced with one in flight). */
  wake(): void;
  /** Publishes until no row is due now; resolves when done. Rows waiting for a retry are left. */
  flush(): Promise<void>;
  stats(): OutboxRelayStats;
  /** Stops polling and waits for the batch in flight to finish (published and marked). Idempotent. */
  stop(): Promise<void>;
}

interface OutboxRow {
  sequence: string;
  event_id: string;
  destination_kind: 'topic' | 'queue';
  destination: string;
  envelope: EventEnvelope;
  trace_context: { traceparent?: string; tracestate?: string; requestId?: string } | null;
  attempts: number;
}

interface BatchOutcome {
  /** Rows handed to publish this round. */
  readonly claimed: number;
  /** The retry delay of the rows that failed (one for the whole batch), if any failed. */
  readonly retryInMs?: number;
  /** Another replica holds the relay lock. */
  readonly busy?: boolean;
}

function toMessage(row: OutboxRow): OutboxMessage {
  return {
    sequence: String(row.sequence),
    kind: row.destination_kind,
    destination: row.destination,
    envelope: row.envelope,
    attempts: row.attempts,
    ...row.trace_context,
  };
}

/** Starts the relay of a service database. */
export function startOutboxRelay<DB>(options: OutboxRelayOptions<DB>): OutboxRelay {
  const { database, publish, log } = options;
  const intervalMs = options.intervalMs ?? 1000;
  const batchSize = options.batchSize ?? MAX_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw new Error(
      `startOutboxRelay: batchSize must be an integer from 1 to ${MAX_BATCH} (got ${batchSize}).`,
    );
  }
  const backoff = { baseMs: options.retry?.baseDelayMs ?? 1000, maxMs: options.retry?.maxDelayMs ?? 60_000 };
  const keepSentMs = options.keepSentMs ?? 86_400_000;
  const db = database.db as unknown as Kysely<unknown>;
  const counters = { published: 0, failed: 0, batches: 0 };

  async function select(executor: Kysely<unknown>, lockRows: boolean): Promise<OutboxRow[]> {
    // A pending row is due unless an earlier row of the same destination is waiting for its retry.
    const { rows } = await sql<OutboxRow>`
      select o.sequence, o.event_id, o.destination_kind, o.destination, o.envelope, o.trace_context, o.attempts
      from flotilla_outbox o
      where o.sent_at is null
        and o.next_attempt_at <= now()
        and not exists (
          select 1 from flotilla_outbox e
          where e.sent_at is null
            and e.destination_kind = o.destination_kind
            and e.destination = o.destination
            and e.sequence < o.sequence
            and e.next_attempt_at > now())
      order by o.sequence
      limit ${batchSize}
      ${lockRows ? sql`for update of o skip locked` : sql``}`.execute(executor);
    return rows;
  }

  async function publishAndMark(executor: Kysely<unknown>, rows: OutboxRow[]): Promise<BatchOutcome> {
    let result: OutboxPublishResult;
    try {
      result = await publish(rows.map(toMessage));
    } catch (error) {
      const reason = errorMessage(error);
      result = {
        failedIds: rows.map((r) => r.event_id),
        reasons: Object.fromEntries(rows.map((r) => [r.event_id, reason])),
      };
    }
    const failed = new Set(result.failedIds);
    const sent = rows.filter((r) => !failed.has(r.event_id));
    if (sent.length > 0) {
      await sql`update flotilla_outbox set sent_at = now()
        where sequence in (${sql.join(sent.map((r) => r.sequence))})`.execute(executor);
    }
    const failedRows = rows.filter((r) => failed.has(r.event_id));
    let retryInMs: number | undefined;
    if (failedRows.length > 0) {
      // One delay and one statement for the whole batch: rows that failed together become due at the same
      // instant (one `now()`) and are retried together, in order. The delay follows the head row's attempts;
      // each row keeps its own reason.
      retryInMs = equalJitterDelay(failedRows[0]!.attempts + 1, backoff);
      const failures = failedRows.map((row) => ({
        row,
        reason: result.reasons?.[row.event_id] ?? 'publish reported the message as failed',
      }));
      await sql`update flotilla_outbox o
        set attempts = o.attempts + 1, next_attempt_at = now() + ${retryInMs} * interval '1 millisecond',
          last_error = f.reason
        from (values ${sql.join(failures.map(({ row, reason }) => sql`(${row.sequence}::bigint, ${reason}::text)`))})
          as f(sequence, reason)
        where o.sequence = f.sequence`.execute(executor);
      for (const { row, reason } of failures) {
        log[row.attempts >= 5 ? 'error' : 'warn'](
          {
            eventId: row.event_id,
            type: row.envelope.type,
            destination: row.destination,
            attempts: row.attempts + 1,
            retryInMs,
            reason,
          },
          'outbox message not published; it will be retried and later messages to the same destination wait for it',
        );
      }
    }
    counters.published += sent.length;
    counters.failed += failed.size;
    counters.batches += 1;
    return { claimed: rows.length, retryInMs };
  }

  async function runBatch(): Promise<BatchOutcome> {
    if (database.kind === 'pglite') {
      const rows = await select(db, false);
      return rows.length === 0 ? { claimed: 0 } : publishAndMark(db, rows);
    }
    return db.transaction().execute(async (trx) => {
      const { rows: lock } = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(${sql.lit(RELAY_LOCK_CLASS)}, hashtext(current_schema())) as locked`.execute(
        trx,
      );
      if (!lock[0]?.locked) return { claimed: 0, busy: true };
      const rows = await select(trx, true);
      return rows.length === 0 ? { claimed: 0 } : publishAndMark(trx, rows);
    });
  }

  let stopped = false;
  let again = false;
  let inFlight: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryAt = Infinity;
  let lastCleanup = 0;

  function scheduleRetry(ms: number) {
    const at = Date.now() + ms;
    if (retryTimer && at >= retryAt) return;
    clearTimeout(retryTimer);
    retryAt = at;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retryAt = Infinity;
      wake();
    }, ms + 5);
    retryTimer.unref();
  }

  async function cleanup() {
    if (Date.now() - lastCleanup < Math.min(keepSentMs, 600_000)) return;
    lastCleanup = Date.now();
    await sql`delete from flotilla_outbox where sent_at < now() - ${keepSentMs} * interval '1 millisecond'`.execute(
      db,
    );
  }

  /** Milliseconds until the earliest pending row is due (null when none is pending). */
  async function nextDueInMs(): Promise<number | null> {
    const { rows } = await sql<{ ms: string | number | null }>`
      select extract(epoch from (min(next_attempt_at) - now())) * 1000 as ms
      from flotilla_outbox where sent_at is null`.execute(db);
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Number(ms);
  }

  async function loop(): Promise<void> {
    let outcome: BatchOutcome;
    try {
      do {
        again = false;
        outcome = await runBatch();
        if (outcome.claimed === batchSize) again = true; // there may be more right behind
        if (outcome.retryInMs !== undefined) scheduleRetry(outcome.retryInMs);
      } while (again && !stopped);
      if (stopped || outcome.busy) return; // another replica relays; the poll checks again
      // Going idle: wake up when the earliest row waiting for a retry is due.
      const dueIn = await nextDueInMs();
      if (dueIn !== null) scheduleRetry(Math.max(dueIn, 10));
      if (outcome.claimed === 0) await cleanup();
    } catch (error) {
      // Database unreachable or similar: nothing was marked, so the next poll retries everything.
      log.error({ err: error }, 'outbox relay round failed; retrying at the next poll');
    }
  }

  function wake(): void {
    if (stopped) return;
    if (inFlight) {
      again = true;
      return;
    }
    again = false;
    inFlight = loop().finally(() => {
      inFlight = undefined;
      // A wake that arrived after the last batch query (while scheduling or cleaning up) must not be lost.
      if (again) wake();
    });
  }

  const unsubscribe = onOutboxCommit(database, wake);
  const poll = setInterval(wake, intervalMs);
  poll.unref();
  wake(); // rows left by a previous run (e.g. a crash between commit and publish)

  let stopping: Promise<void> | undefined;
  const relay: OutboxRelay = {
    wake,
    async flush() {
      for (;;) {
        while (inFlight) await inFlight;
        if (stopped) return;
        wake();
        await inFlight;
        if ((await select(db, false)).length === 0) return;
      }
    },
    stats: () => ({ ...counters }),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        unsubscribe();
        clearInterval(poll);
        clearTimeout(retryTimer);
        await inFlight;
        log.info({ ...counters }, 'outbox relay stopped');
      })();
      return stopping;
    },
  };
  options.lifecycle?.onStop('outbox-relay', () => relay.stop());
  return relay;
}
