/**
 * Outbox dead letters: rows the relay parked after they kept failing as the sender's fault (too large,
 * invalid content). They stay in `flotilla_outbox` with their reason and attempts until re-driven (sent
 * again, in their place in the sequence) or removed by retention. `make dlq` lists them and
 * `make redrive QUEUE=<service>/outbox` re-drives them, through the service's {@link OUTBOX_ADMIN_PATH}.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database/index.js';
import type { OutboxDestinationKind } from './message.js';
import { signalOutboxCommit } from './signal.js';

/**
 * Where a service that uses the outbox answers `make dlq` (`GET <path>/dead-letters`) and `make redrive`
 * (`POST <path>/redrive`), on its own port. The ingress routes only the model's routes, so these stay
 * inside the cluster (reach them with `kubectl port-forward`).
 */
export const OUTBOX_ADMIN_PATH = '/_flotilla/outbox';

/** One parked row. */
export interface OutboxDeadLetter {
  readonly eventId: string;
  readonly type: string;
  readonly destinationKind: OutboxDestinationKind;
  readonly destination: string;
  /** Publish attempts, all failures together. */
  readonly attempts: number;
  /** The last failure's reason. */
  readonly reason: string;
  /** ISO-8601 times the row was written and parked. */
  readonly createdAt: string;
  readonly deadLetteredAt: string;
}

/** How many rows are parked, and the oldest of them. */
export interface OutboxDeadLetterReport {
  readonly count: number;
  readonly samples: readonly OutboxDeadLetter[];
}

interface Row {
  event_id: string;
  type: string | null;
  destination_kind: OutboxDestinationKind;
  destination: string;
  attempts: number;
  last_error: string | null;
  created_at: Date | string;
  dead_lettered_at: Date | string;
}

const iso = (value: Date | string) => new Date(value).toISOString();

/** The number of dead letters and up to `limit` of them, oldest first. */
export async function listOutboxDeadLetters<DB>(
  database: Database<DB>,
  limit = 10,
): Promise<OutboxDeadLetterReport> {
  const db = database.db as unknown as Kysely<unknown>;
  const { rows: counted } = await sql<{ n: string | number }>`
    select count(*) as n from flotilla_outbox where dead_lettered_at is not null`.execute(db);
  const { rows } = await sql<Row>`
    select event_id, envelope->>'type' as type, destination_kind, destination, attempts, last_error, created_at,
      dead_lettered_at
    from flotilla_outbox where dead_lettered_at is not null
    order by sequence limit ${Math.max(0, Math.floor(limit))}`.execute(db);
  return {
    count: Number(counted[0]?.n ?? 0),
    samples: rows.map((r) => ({
      eventId: r.event_id,
      type: r.type ?? '',
      destinationKind: r.destination_kind,
      destination: r.destination,
      attempts: r.attempts,
      reason: r.last_error ?? '',
      createdAt: iso(r.created_at),
      deadLetteredAt: iso(r.dead_lettered_at),
    })),
  };
}

/** Which dead letters to re-drive. */
export interface OutboxRedriveOptions {
  /** Only these envelope ids. @default every dead letter */
  readonly eventIds?: readonly string[];
}

/**
 * Puts dead letters back in line: due now, their sender-fault count cleared (attempts and last reason are
 * kept), and wakes the relay. Each keeps its sequence, so it goes before the pending rows of its
 * destination. Returns how many were re-driven.
 */
export async function redriveOutboxDeadLetters<DB>(
  database: Database<DB>,
  options: OutboxRedriveOptions = {},
): Promise<number> {
  const db = database.db as unknown as Kysely<unknown>;
  const ids = options.eventIds;
  if (ids !== undefined && ids.length === 0) return 0;
  const result = await sql`
    update flotilla_outbox
    set dead_lettered_at = null, sender_faults = 0, next_attempt_at = now(), claimed_until = null, claimed_by = null
    where dead_lettered_at is not null
      ${ids !== undefined ? sql`and event_id in (${sql.join(ids)})` : sql``}`.execute(db);
  const redriven = Number(result.numAffectedRows ?? 0n);
  if (redriven > 0) signalOutboxCommit(database);
  return redriven;
}
