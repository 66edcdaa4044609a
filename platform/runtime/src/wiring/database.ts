/**
 * `useDatabase`: the service's own database from `DATABASE_URL` (a PostgreSQL server) or `DATABASE_DIR`
 * (embedded PGlite), with its migrations applied, a deadline on every call, a readiness check, retention of
 * the kit's inbox and outbox rows, and closing in the `database` stop phase.
 */
import { ENV } from '@flotilla/model';
import { DATABASE_TIMEOUT_VARS, RETENTION_VARS } from '../config/database.js';
import { loadDatabaseConfig } from '../config/load.js';
import {
  openDatabase,
  startRetention,
  type Database,
  type DatabaseTimeouts,
  type Migration,
  type RetentionOptions,
} from '../database/index.js';
import { onStopPhase } from './phases.js';
import { WiringConfigError, type WiringOptions, type WiringTarget } from './target.js';

/** Options of {@link useDatabase}. */
export interface UseDatabaseOptions extends WiringOptions {
  /** The service's migrations, applied (under a lock) before this resolves. See `Migration`. */
  readonly migrations: readonly Migration[];
  /**
   * Maximum connections of the `pg` pool (server only).
   * @default 10
   * @see https://node-postgres.com/apis/pool
   */
  readonly poolSize?: number;
  /**
   * PGlite template that a new embedded database is copied from.
   * @default - `$FLOTILLA_PGLITE_TEMPLATE_DIR`, else the cached template next to the installed PGlite
   */
  readonly template?: string;
  /**
   * Deadlines of the database calls. A variable that is set (`DATABASE_CONNECT_TIMEOUT_MS`,
   * `DATABASE_STATEMENT_TIMEOUT_MS`, `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`) wins over the value here.
   * @default - the variables, else `DatabaseTimeouts`' defaults
   */
  readonly timeouts?: DatabaseTimeouts;
  /**
   * Retention of the kit's inbox and outbox rows. A variable that is set (`INBOX_RETENTION_HOURS`,
   * `OUTBOX_SENT_RETENTION_HOURS`, `OUTBOX_DEAD_LETTER_RETENTION_HOURS`) wins over the value here.
   * @default - the variables, else `RetentionOptions`' defaults
   */
  readonly retention?: RetentionOptions;
}

/**
 * Opens the service database named by its environment and applies its migrations. Adds the readiness check
 * `database` and starts the retention of the kit's tables; both stop and the database closes in the
 * `database` stop phase, after consumers and the outbox relay stopped.
 * @throws WiringConfigError when neither DATABASE_URL nor DATABASE_DIR is set
 * @throws ConfigError when a database variable is invalid
 */
export async function useDatabase<DB>(svc: WiringTarget, options: UseDatabaseOptions): Promise<Database<DB>> {
  const env = options.env ?? svc.env;
  const url = env[ENV.databaseUrl]?.trim();
  const dir = env[ENV.databaseDir]?.trim();
  const name = svc.config.service.name;
  if (!url && !dir) {
    throw new WiringConfigError(
      ENV.databaseUrl,
      `Service '${name}' has no database configured: set ${ENV.databaseUrl} (a PostgreSQL URL) or ` +
        `${ENV.databaseDir} (a directory for the embedded PGlite database). envFor writes one of them when ` +
        `services/${name}/service.ts declares \`database: true\`.`,
    );
  }
  const settings = loadDatabaseConfig(env);
  const database = await openDatabase<DB>({
    ...(url ? { url } : { dir }),
    migrations: options.migrations,
    log: svc.log,
    health: svc.health,
    poolSize: options.poolSize,
    template: options.template,
    timeouts: { ...options.timeouts, ...setOnly(env, settings.timeouts, DATABASE_TIMEOUT_VARS) },
  });
  const retention = startRetention(database, svc.log.child({ module: 'retention' }), {
    ...options.retention,
    ...setOnly(env, settings.retention, RETENTION_VARS),
  });
  onStopPhase(svc, 'database', async () => {
    await retention.stop();
    await database.close();
  });
  return database;
}

/** The settings whose variable is set in `env` (so an option in code applies where none is). */
function setOnly<K extends string>(
  env: WiringTarget['env'],
  values: Readonly<Record<K, number>>,
  vars: Readonly<Record<K, string>>,
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const key of Object.keys(vars) as K[]) {
    if (env[vars[key]]?.trim()) out[key] = values[key];
  }
  return out;
}
