/**
 * `openDatabase`: the service's PostgreSQL database through Kysely, on a real server (`pg` pool) when a URL
 * is given, else on embedded PGlite in a data directory. Both run the same SQL dialect, migrations and code.
 */
import type { PGlite } from '@electric-sql/pglite';
import { ENV } from '@flotilla/model';
import { Kysely, PostgresDialect, sql, type IsolationLevel, type Transaction } from 'kysely';
import path from 'node:path';
import type { Health, Lifecycle, Logger } from '../kit.js';
import { runMigrations, validateMigrations, type Migration, type MigrationReport } from './migrations.js';
import { PGliteDialect } from './pglite-dialect.js';
import { pgliteStartParams } from './pglite-settings.js';
import { createPgliteDataDir, isPgliteDataDir } from './pglite-template.js';
import { PLATFORM_MIGRATIONS } from './platform-schema.js';
import { guardPoolClients, poolDeadlines, resolveTimeouts, type DatabaseTimeouts } from './timeouts.js';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * PostgreSQL connection URL (`DATABASE_URL`); when set, a real server is used through a `pg` pool.
   * @see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS
   * @default undefined (use PGlite in `dir`)
   */
  readonly url?: string;
  /**
   * PGlite data directory (`DATABASE_DIR`), used when `url` is not set. A missing or empty directory gets a
   * copy of the cached template (see `ensurePgliteTemplate`); an existing database is opened as it is.
   * `memory://` keeps the database in memory (pays initdb on every open: for one-off scripts only).
   */
  readonly dir?: string;
  /** The service's migrations, applied at open (see {@link Migration}). */
  readonly migrations: readonly Migration[];
  readonly log: Logger;
  /** When given, closing the database is registered as the stop hook `database`. */
  readonly lifecycle?: Lifecycle;
  /** When given, {@link Database.check} is registered as the readiness check `database`. */
  readonly health?: Health;
  /**
   * Maximum connections of the `pg` pool (server only).
   * @see https://node-postgres.com/apis/pool
   * @default 10
   */
  readonly poolSize?: number;
  /**
   * Deadlines of every database call (see {@link DatabaseTimeouts} for each default). On PGlite only
   * `connectMs` applies: how long a call waits for the single session.
   */
  readonly timeouts?: DatabaseTimeouts;
  /**
   * Template data directory that new PGlite databases are copied from.
   * @default defaultPgliteTemplateDir() — `$FLOTILLA_PGLITE_TEMPLATE_DIR` or `node_modules/.cache/flotilla/…`
   */
  readonly template?: string;
}

/** Options of {@link Database.transaction}. */
export interface TransactionOptions {
  /** @see https://www.postgresql.org/docs/current/transaction-iso.html @default the server's (read committed) */
  readonly isolationLevel?: IsolationLevel;
}

/** An open service database. */
export interface Database<DB> {
  /** The typed query builder. On PGlite, inside a transaction query through `trx`, never through `db`. */
  readonly db: Kysely<DB>;
  /** Which engine runs underneath. */
  readonly kind: 'pglite' | 'postgres';
  /** Migrations applied by this open (empty when the schema was already current). */
  readonly migrations: MigrationReport;
  /**
   * Runs `fn` in a transaction: commits when it resolves, rolls back and rethrows when it throws.
   * Callbacks registered with {@link Database.afterCommit} run after a successful commit.
   */
  transaction<T>(fn: (trx: Transaction<DB>) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Registers `callback` to run once the transaction `trx` (opened by {@link Database.transaction}) has
   * committed; it never runs if the transaction rolls back. Returns false (and never calls back) when `trx`
   * was not opened by this helper.
   */
  afterCommit(trx: Transaction<DB>, callback: () => void): boolean;
  /**
   * Readiness: resolves when `select 1` answers, rejects with the reason otherwise. How long it may take
   * is the readiness registry's per-check timeout (`/readyz` bounds every check the same way).
   */
  check(): Promise<void>;
  /** Closes the pool or PGlite, after the transaction in flight (if any). Idempotent. */
  close(): Promise<void>;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return `<unparsable ${ENV.databaseUrl}>`;
  }
}

async function openPglite(dir: string, options: OpenDatabaseOptions): Promise<PGlite> {
  if (!dir.startsWith('memory://')) {
    const absolute = path.resolve(dir);
    if (!(await isPgliteDataDir(absolute))) {
      await createPgliteDataDir(absolute, {
        log: options.log,
        ...(options.template !== undefined ? { template: options.template } : {}),
      });
    }
    dir = absolute;
  }
  // Loaded here, not at the top: a service on a PostgreSQL server never pays for PGlite's module and WASM.
  const { PGlite } = await import('@electric-sql/pglite');
  try {
    return await PGlite.create({
      dataDir: dir,
      // A small buffer pool: most of what an embedded database would otherwise keep resident (issue 16).
      startParams: pgliteStartParams(PGlite),
      // Same results as `pg` on a server: bigint (int8) values as strings, never silently rounded numbers.
      parsers: { 20: (value: string) => value },
    });
  } catch (error) {
    throw new Error(
      `Cannot open the PGlite database in ${dir} (${ENV.databaseDir}): ${(error as Error).message}. ` +
        `If the directory is corrupt or from another PGlite version, move it away to start from an empty database.`,
      { cause: error },
    );
  }
}

/** A `pg` pool with the deadlines, whose clients cannot crash the process when their connection fails. */
function serverPool(
  pg: typeof import('pg').default,
  url: string,
  max: number,
  timeouts: Required<DatabaseTimeouts>,
  log: Logger,
): import('pg').Pool {
  const pool = new pg.Pool({ connectionString: url, max, ...poolDeadlines(timeouts) });
  // An idle client that loses its server connection emits 'error' on the pool; without a listener that
  // would crash the process. The pool replaces the client; readiness reports the outage.
  pool.on('error', (error) => log.warn({ err: error }, 'idle database connection failed'));
  guardPoolClients(pool, log);
  return pool;
}

/**
 * Opens the service database, applies the kit's and the service's migrations, and (when given) registers a
 * readiness check and a stop hook. Throws with the reason and the fix when the database cannot be reached
 * or a migration does not match.
 */
export async function openDatabase<DB>(options: OpenDatabaseOptions): Promise<Database<DB>> {
  const { log } = options;
  const started = performance.now();
  validateMigrations(options.migrations, 'service'); // fail fast, before paying for a connection or PGlite
  const timeouts = resolveTimeouts(options.timeouts);
  let db: Kysely<DB>;
  /** Where migrations run: on a server, a connection without the statement deadline (an index build may take minutes). */
  let migrationDb: Kysely<unknown>;
  let kind: Database<DB>['kind'];
  let where: string;
  if (options.url) {
    kind = 'postgres';
    where = redactUrl(options.url);
    // Loaded only for a server, like PGlite only for the embedded database: start-up loads one engine.
    const { default: pg } = await import('pg');
    const pool = serverPool(pg, options.url, options.poolSize ?? 10, timeouts, log);
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    const migrationPool = serverPool(pg, options.url, 1, { ...timeouts, statementMs: 0 }, log);
    migrationDb = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: migrationPool }) });
  } else if (options.dir) {
    kind = 'pglite';
    where = options.dir;
    db = new Kysely<DB>({
      dialect: new PGliteDialect(await openPglite(options.dir, options), {
        acquireTimeoutMs: timeouts.connectMs,
      }),
    });
    migrationDb = db as unknown as Kysely<unknown>;
  } else {
    throw new Error(
      `No database configured: set ${ENV.databaseUrl} to a PostgreSQL URL (postgres://user:password@host:5432/db) ` +
        `or ${ENV.databaseDir} to a directory for the embedded PGlite database.`,
    );
  }

  let report: MigrationReport;
  try {
    report = await runMigrations(
      migrationDb,
      [
        { scope: 'flotilla', migrations: PLATFORM_MIGRATIONS },
        { scope: 'service', migrations: options.migrations },
      ],
      log,
    );
  } catch (error) {
    await db.destroy().catch(() => undefined);
    if (kind === 'postgres') await migrationDb.destroy().catch(() => undefined);
    if (kind === 'postgres' && !(error instanceof Error && error.name === 'MigrationError')) {
      const message = (error as Error).message;
      const deadline = /timeout/i.test(message) ? ` (connect deadline ${timeouts.connectMs} ms)` : '';
      throw new Error(
        `Cannot use the database at ${where} (${ENV.databaseUrl}): ${message}${deadline}. ` +
          `Check that the server is running and the URL, user and password are right.`,
        { cause: error },
      );
    }
    throw error;
  }
  if (kind === 'postgres') await migrationDb.destroy();

  const commitHooks = new WeakMap<Transaction<DB>, (() => void)[]>();
  let closing: Promise<void> | undefined;

  const database: Database<DB> = {
    db,
    kind,
    migrations: report,
    async transaction(fn, transactionOptions) {
      const hooks: (() => void)[] = [];
      let builder = db.transaction();
      if (transactionOptions?.isolationLevel)
        builder = builder.setIsolationLevel(transactionOptions.isolationLevel);
      const result = await builder.execute(async (trx) => {
        commitHooks.set(trx, hooks);
        return fn(trx);
      });
      for (const hook of hooks) {
        try {
          hook();
        } catch (error) {
          log.error({ err: error }, 'an after-commit callback threw; the transaction is committed');
        }
      }
      return result;
    },
    afterCommit(trx, callback) {
      const hooks = commitHooks.get(trx);
      if (!hooks) return false;
      hooks.push(callback);
      return true;
    },
    async check() {
      if (closing) throw new Error('the database is closed');
      await sql`select 1`.execute(db);
    },
    close() {
      closing ??= db.destroy().then(() => log.info({ database: kind }, 'database closed'));
      return closing;
    },
  };

  options.health?.addReadinessCheck('database', () => database.check());
  options.lifecycle?.onStop('database', () => database.close());
  log.info(
    {
      database: kind,
      at: where,
      ms: Math.round(performance.now() - started),
      migrations: report.applied.length,
    },
    'database open',
  );
  return database;
}
