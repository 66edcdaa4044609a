/**
 * The variables that tune the service database: deadlines of its calls and how long the kit's inbox and
 * outbox rows are kept. All optional, each with the default of the option it sets (`DatabaseTimeouts`,
 * `RetentionOptions`), and named by that option's key so the two cannot drift apart.
 */
import type { DatabaseTimeouts } from '../database/timeouts.js';
import type { RetentionOptions } from '../database/retention.js';

/** Variable of each `DatabaseTimeouts` option. */
export const DATABASE_TIMEOUT_VARS = {
  connectMs: 'DATABASE_CONNECT_TIMEOUT_MS',
  statementMs: 'DATABASE_STATEMENT_TIMEOUT_MS',
  idleInTransactionMs: 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
} as const satisfies Record<keyof DatabaseTimeouts, string>;

type RetentionPeriods = Pick<RetentionOptions, 'inboxHours' | 'outboxSentHours' | 'outboxDeadLetterHours'>;

/** Variable of each retention period of `RetentionOptions`. */
export const RETENTION_VARS = {
  inboxHours: 'INBOX_RETENTION_HOURS',
  outboxSentHours: 'OUTBOX_SENT_RETENTION_HOURS',
  outboxDeadLetterHours: 'OUTBOX_DEAD_LETTER_RETENTION_HOURS',
} as const satisfies Record<keyof RetentionPeriods, string>;

/** The database settings of the base configuration. */
export interface DatabaseConfig {
  /** From `DATABASE_*_TIMEOUT_MS`. */
  readonly timeouts: Required<DatabaseTimeouts>;
  /** From `INBOX_RETENTION_HOURS` and `OUTBOX_*_RETENTION_HOURS`. */
  readonly retention: Required<RetentionPeriods>;
}

/** The typed settings from the validated variables. */
export function databaseConfigOf(values: Readonly<Record<string, unknown>>): DatabaseConfig {
  return { timeouts: pick(values, DATABASE_TIMEOUT_VARS), retention: pick(values, RETENTION_VARS) };
}

function pick<K extends string>(
  values: Readonly<Record<string, unknown>>,
  vars: Readonly<Record<K, string>>,
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(vars) as K[]) out[key] = values[vars[key]] as number;
  return out;
}
