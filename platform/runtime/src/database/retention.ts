/**
 * Retention of the kit's own tables: without it `flotilla_inbox` and `flotilla_outbox` grow by a row per
 * event forever. A timer deletes what is old enough, in small batches (each statement short, well inside the
 * statement deadline, and PGlite's single session is free between two), on every replica (deleting is
 * idempotent, so replicas need no coordination).
 */
import { sql, type Kysely } from 'kysely';
import type { Logger } from '../kit.js';
import { startPeriodicTask } from '../lifecycle/periodic.js';
import type { Database } from './database.js';

const HOUR_MS = 3_600_000;

/**
 * How long processed inbox entries are kept: 15 days. The inbox must remember an event for as long as a
 * copy of it can still arrive. SQS delivers a message at most `MessageRetentionPeriod` after it was sent,
 * and SQS caps that period at 14 days (1,209,600 s; the charts give dead-letter queues that maximum, and a
 * message moved to a dead-letter queue keeps its original enqueue time). An entry is written after the
 * first copy was received, hence after it was sent, so 14 days after processing covers every copy SQS
 * holds. One more day covers copies sent later than the first: the outbox relay re-publishing a row whose
 * "sent" mark was lost (within its claim lease, seconds) and SNS's own delivery retries to SQS.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 */
export const DEFAULT_INBOX_RETENTION_HOURS = 15 * 24;
/** Sent outbox rows are kept a day, to look up what was published and when. */
export const DEFAULT_OUTBOX_SENT_RETENTION_HOURS = 24;
/** Outbox dead letters are kept 14 days, as long as SQS keeps a dead-letter queue's messages at most. */
export const DEFAULT_OUTBOX_DEAD_LETTER_RETENTION_HOURS = 14 * 24;

/** Options of {@link startRetention}. Every period is in hours; 0 keeps those rows forever. */
export interface RetentionOptions {
  /** Processed inbox entries. @default 360 (15 days; see {@link DEFAULT_INBOX_RETENTION_HOURS} for why) */
  readonly inboxHours?: number;
  /** Outbox rows published. @default 24 */
  readonly outboxSentHours?: number;
  /** Outbox dead letters (rows parked after failing as the sender's fault). @default 336 (14 days) */
  readonly outboxDeadLetterHours?: number;
  /** Time between two rounds; the first runs one interval after start. @default 600000 (10 min) */
  readonly intervalMs?: number;
  /** Rows per delete statement. @default 1000 */
  readonly batchSize?: number;
}

/** Rows one round deleted, per kind. */
export interface RetentionReport {
  readonly inbox: number;
  readonly outboxSent: number;
  readonly outboxDeadLetters: number;
}

export interface Retention {
  /** One round now, after the round in flight if there is one. */
  runOnce(): Promise<RetentionReport>;
  /** Stops the timer and waits for the round in flight. Idempotent. */
  stop(): Promise<void>;
}

interface Target {
  readonly kind: keyof RetentionReport;
  readonly hours: number;
  /** Deletes up to `limit` rows older than `hours`; returns how many. */
  readonly deleteBatch: (db: Kysely<unknown>, hours: number, limit: number) => Promise<number>;
}

const cutoff = (hours: number) => sql`now() - ${hours * HOUR_MS} * interval '1 millisecond'`;

const deleteInbox: Target['deleteBatch'] = async (db, hours, limit) => {
  const result = await sql`
    delete from flotilla_inbox where (consumer, event_id) in (
      select consumer, event_id from flotilla_inbox where processed_at < ${cutoff(hours)} limit ${limit})`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0n);
};

const deleteOutbox =
  (column: 'sent_at' | 'dead_lettered_at'): Target['deleteBatch'] =>
  async (db, hours, limit) => {
    const result = await sql`
      delete from flotilla_outbox where sequence in (
        select sequence from flotilla_outbox where ${sql.ref(column)} < ${cutoff(hours)} limit ${limit})`.execute(
      db,
    );
    return Number(result.numAffectedRows ?? 0n);
  };

function hoursOption(name: string, value: number | undefined, fallback: number): number {
  const hours = value ?? fallback;
  if (!Number.isFinite(hours) || hours < 0) {
    throw new Error(`startRetention: ${name} must be a number of hours, 0 or more (got ${String(value)}).`);
  }
  return hours;
}

/** Starts deleting old rows of the kit's tables in `database` every `intervalMs`. */
export function startRetention<DB>(
  database: Database<DB>,
  log: Logger,
  options: RetentionOptions = {},
): Retention {
  const db = database.db as unknown as Kysely<unknown>;
  const intervalMs = options.intervalMs ?? 600_000;
  const batchSize = options.batchSize ?? 1000;
  const targets: Target[] = [
    {
      kind: 'inbox',
      hours: hoursOption('inboxHours', options.inboxHours, DEFAULT_INBOX_RETENTION_HOURS),
      deleteBatch: deleteInbox,
    },
    {
      kind: 'outboxSent',
      hours: hoursOption('outboxSentHours', options.outboxSentHours, DEFAULT_OUTBOX_SENT_RETENTION_HOURS),
      deleteBatch: deleteOutbox('sent_at'),
    },
    {
      kind: 'outboxDeadLetters',
      hours: hoursOption(
        'outboxDeadLetterHours',
        options.outboxDeadLetterHours,
        DEFAULT_OUTBOX_DEAD_LETTER_RETENTION_HOURS,
      ),
      deleteBatch: deleteOutbox('dead_lettered_at'),
    },
  ];

  async function round(stopping: () => boolean): Promise<RetentionReport> {
    const report: Record<keyof RetentionReport, number> = { inbox: 0, outboxSent: 0, outboxDeadLetters: 0 };
    for (const target of targets) {
      if (target.hours === 0) continue;
      for (;;) {
        if (stopping()) break;
        const deleted = await target.deleteBatch(db, target.hours, batchSize);
        report[target.kind] += deleted;
        if (deleted < batchSize) break;
      }
    }
    if (report.inbox + report.outboxSent + report.outboxDeadLetters > 0)
      log.info({ deleted: report }, 'retention deleted old inbox and outbox rows');
    return report;
  }

  const task = startPeriodicTask({ name: 'retention round', intervalMs, round, log });
  return { runOnce: task.runNow, stop: task.stop };
}
