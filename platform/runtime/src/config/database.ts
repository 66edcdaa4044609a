/**
 * The variables that tune the service database: the deadlines of its calls. All optional, each with the
 * default of the option it sets (`DatabaseTimeouts`), and named by that option's key so the two cannot
 * drift apart.
 */
import type { DatabaseTimeouts } from '../database/timeouts.js';

/** Variable of each `DatabaseTimeouts` option. */
export const DATABASE_TIMEOUT_VARS = {
  connectMs: 'DATABASE_CONNECT_TIMEOUT_MS',
  statementMs: 'DATABASE_STATEMENT_TIMEOUT_MS',
  idleInTransactionMs: 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
} as const satisfies Record<keyof DatabaseTimeouts, string>;

/** The database settings of the base configuration. */
export interface DatabaseConfig {
  /** From `DATABASE_*_TIMEOUT_MS`. */
  readonly timeouts: Required<DatabaseTimeouts>;
}

/** The typed settings from the validated variables. */
export function databaseConfigOf(values: Readonly<Record<string, unknown>>): DatabaseConfig {
  return { timeouts: pick(values, DATABASE_TIMEOUT_VARS) };
}

function pick<K extends string>(
  values: Readonly<Record<string, unknown>>,
  vars: Readonly<Record<K, string>>,
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of Object.keys(vars) as K[]) out[key] = values[vars[key]] as number;
  return out;
}
