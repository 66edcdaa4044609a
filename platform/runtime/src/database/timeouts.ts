/**
 * Deadlines of database calls. Every call to the server has one: getting a connection (new or from the
 * pool), each statement (the server cancels it), a transaction left idle (the server ends the session), and
 * a client-side backstop for a server that stops answering altogether (a hung host, a partition), where
 * nothing on the server side can fire.
 */
import type pg from 'pg';
import { errorMessage, type Logger } from '../kit.js';

/** Deadlines of the service database's calls. 0 turns one off. */
export interface DatabaseTimeouts {
  /**
   * How long to wait for a connection: a new one to the server (TCP, TLS, start-up and authentication) or
   * a free one from the pool. On PGlite: how long to wait for the single session while a transaction
   * holds it.
   * @see https://node-postgres.com/apis/pool
   * @default 5000
   */
  readonly connectMs?: number;
  /**
   * `statement_timeout`: the server cancels any statement that runs longer. A client-side backstop of this
   * plus {@link QUERY_BACKSTOP_GRACE_MS} fails the call when the server does not answer at all, and that
   * connection is discarded. Migrations run without it (an index build may take minutes).
   * @see https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
   * @default 10000
   */
  readonly statementMs?: number;
  /**
   * `idle_in_transaction_session_timeout`: the server ends a session whose open transaction has been idle
   * this long (code that awaits something else inside a transaction), releasing its locks.
   * @see https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-IDLE-IN-TRANSACTION-SESSION-TIMEOUT
   * @default 30000
   */
  readonly idleInTransactionMs?: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: Required<DatabaseTimeouts> = {
  connectMs: 5000,
  statementMs: 10_000,
  idleInTransactionMs: 30_000,
};

/**
 * Added to `statementMs` for the client-side deadline: long enough that the server's cancellation (a clean
 * error on a connection that stays usable) normally comes first.
 */
export const QUERY_BACKSTOP_GRACE_MS = 5000;

/** The timeouts with every default filled in; rejects negative or non-integer values. */
export function resolveTimeouts(timeouts: DatabaseTimeouts | undefined): Required<DatabaseTimeouts> {
  const resolved = { ...DEFAULT_DATABASE_TIMEOUTS };
  for (const key of Object.keys(resolved) as (keyof DatabaseTimeouts)[]) {
    const value = timeouts?.[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new Error(
        `Database timeouts: ${key} must be a whole number of milliseconds, 0 or more (got ${String(value)}).`,
      );
    }
    resolved[key] = value;
  }
  return resolved;
}

/** The `pg` pool settings that carry the deadlines. */
export function poolDeadlines(timeouts: Required<DatabaseTimeouts>): pg.PoolConfig {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    ...(timeouts.statementMs > 0
      ? {
          statement_timeout: timeouts.statementMs,
          query_timeout: timeouts.statementMs + QUERY_BACKSTOP_GRACE_MS,
        }
      : {}),
    ...(timeouts.idleInTransactionMs > 0
      ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionMs }
      : {}),
    // The kernel notices a dead peer of an idle connection instead of keeping it forever.
    keepAlive: true,
  };
}

/** The message `pg` rejects a query with when its `query_timeout` passes. */
const READ_TIMEOUT = 'Query read timeout';

/** The message `pg` rejects a query with on a client whose connection failed earlier. */
const NOT_QUERYABLE = 'not queryable';

/**
 * Makes every client of `pool` safe to use under deadlines:
 * - a client in use (checked out) gets an `error` listener: the server ending its session (idle-in-transaction
 *   timeout, restart) emits `error` on it, which without a listener would crash the process; the pool
 *   drops the client when it is released, and the next query on it fails naming why the session ended;
 * - a client whose query hit the client-side backstop is ended: the server did not answer, so the
 *   connection cannot be trusted with the next query (the pool drops it on release).
 */
export function guardPoolClients(pool: pg.Pool, log: Logger): void {
  pool.on('connect', (client) => {
    let ended: Error | undefined;
    client.on('error', (error) => {
      ended ??= error;
      log.warn({ err: errorMessage(error) }, 'database connection failed');
    });
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const result = query(...args);
      if (!(result instanceof Promise)) return result;
      return result.catch((error: unknown) => {
        if (error instanceof Error && error.message === READ_TIMEOUT) discard(client, log);
        if (ended && error instanceof Error && error.message.includes(NOT_QUERYABLE)) {
          throw new Error(`The database ended this connection: ${ended.message}`, { cause: error });
        }
        throw error;
      });
    };
  });
}

function discard(client: pg.PoolClient, log: Logger): void {
  log.warn('the database did not answer within the deadline; dropping the connection');
  // end() marks the client as ending (the pool drops it on release, and no `error` is emitted); the
  // socket is destroyed because a server that does not answer will not finish the goodbye either.
  void client.end().catch(() => undefined);
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
