/**
 * A Kysely dialect for PGlite (embedded PostgreSQL compiled to WASM).
 *
 * PGlite is one backend with one session: there is no pool. Every Kysely "connection" is therefore a lease
 * of that single session, handed out one at a time by a FIFO lock. A transaction keeps its lease from BEGIN
 * to COMMIT/ROLLBACK, so a query issued outside the transaction waits instead of silently running inside it.
 * Consequence worth knowing: inside `db.transaction()` always query through `trx`; a query on `db` there
 * waits for the transaction that is waiting for it (a deadlock), exactly like a pool of size one.
 * Waiting for the session has a deadline (`acquireTimeoutMs`), like a pool's connection timeout, so such a
 * deadlock, or a transaction that never ends, fails the calls behind it instead of hanging them forever.
 */
import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/** Options of {@link PGliteDialect}. */
export interface PGliteDialectOptions {
  /**
   * How long a query or transaction waits for the session while another holds it; then it fails with
   * {@link PGliteSessionTimeoutError}. 0 waits forever.
   * @default 0
   */
  readonly acquireTimeoutMs?: number;
}

/** A call waited longer than `acquireTimeoutMs` for PGlite's single session. */
export class PGliteSessionTimeoutError extends Error {
  override readonly name = 'PGliteSessionTimeoutError';
  constructor(timeoutMs: number) {
    super(
      `The embedded database (PGlite) was busy for ${timeoutMs} ms: a transaction held its single session ` +
        `that long. Keep transactions short, and inside database.transaction() query through trx, not db.`,
    );
  }
}

/**
 * A FIFO lock: `acquire()` resolves with a release function once every earlier holder has released, or
 * rejects after `timeoutMs`; a waiter that gave up passes its turn on at once.
 */
class SessionLock {
  #tail: Promise<void> = Promise.resolve();

  acquire(timeoutMs = 0): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => released);
    if (timeoutMs <= 0) return previous.then(() => release);
    return new Promise((resolve, reject) => {
      let gaveUp = false;
      const timer = setTimeout(() => {
        gaveUp = true;
        reject(new PGliteSessionTimeoutError(timeoutMs));
      }, timeoutMs);
      void previous.then(() => {
        clearTimeout(timer);
        if (gaveUp) release();
        else resolve(release);
      });
    });
  }
}

class PGliteConnection implements DatabaseConnection {
  constructor(
    private readonly pg: PGlite,
    readonly release: () => void,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (compiled.parameters.length === 0) {
      // Without parameters, use the simple query protocol like `pg` does: it accepts several statements
      // in one string (SQL migrations rely on that). The last statement's result is the result.
      const results = await this.pg.exec(compiled.sql, { rowMode: 'object' });
      const last = results[results.length - 1];
      return {
        rows: (last?.rows ?? []) as R[],
        ...(last?.affectedRows !== undefined ? { numAffectedRows: BigInt(last.affectedRows) } : {}),
      };
    }
    const result = await this.pg.query<R>(compiled.sql, [...compiled.parameters], { rowMode: 'object' });
    return {
      rows: result.rows,
      ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}),
    };
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // PGlite returns whole results; one chunk keeps the Kysely streaming API usable.
    yield await this.executeQuery<R>(compiled);
  }
}

class PGliteDriver implements Driver {
  readonly #lock = new SessionLock();

  constructor(
    private readonly pg: PGlite,
    private readonly acquireTimeoutMs: number,
  ) {}

  async init(): Promise<void> {
    await this.pg.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#lock.acquire(this.acquireTimeoutMs);
    return new PGliteConnection(this.pg, release);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const modes = [
      settings.isolationLevel ? `isolation level ${settings.isolationLevel}` : undefined,
      settings.accessMode,
    ].filter(Boolean);
    await connection.executeQuery(CompiledQuery.raw(`begin${modes.length ? ` ${modes.join(', ')}` : ''}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdentifier(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${quoteIdentifier(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${quoteIdentifier(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PGliteConnection).release();
  }

  async destroy(): Promise<void> {
    // Wait for the lease in use (a transaction in flight) before closing the session under it.
    const release = await this.#lock.acquire();
    try {
      if (!this.pg.closed) await this.pg.close();
    } finally {
      release();
    }
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Kysely dialect over one open PGlite instance. Destroying the Kysely instance closes PGlite. */
export class PGliteDialect implements Dialect {
  constructor(
    private readonly pg: PGlite,
    private readonly options: PGliteDialectOptions = {},
  ) {}

  createDriver(): Driver {
    return new PGliteDriver(this.pg, this.options.acquireTimeoutMs ?? 0);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
