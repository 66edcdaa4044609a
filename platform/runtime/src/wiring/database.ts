/**
 * `useDatabase`: the service's own database from `DATABASE_URL` (a PostgreSQL server) or `DATABASE_DIR`
 * (embedded PGlite), with its migrations applied, a readiness check, and closing in the `database` stop phase.
 */
import { ENV } from '@flotilla/model';
import { openDatabase, type Database, type Migration } from '../database/index.js';
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
}

/**
 * Opens the service database named by its environment and applies its migrations. Adds the readiness check
 * `database`; the database closes in the `database` stop phase, after consumers and the outbox relay stopped.
 * @throws WiringConfigError when neither DATABASE_URL nor DATABASE_DIR is set
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
  const database = await openDatabase<DB>({
    ...(url ? { url } : { dir }),
    migrations: options.migrations,
    log: svc.log,
    health: svc.health,
    poolSize: options.poolSize,
    template: options.template,
  });
  onStopPhase(svc, 'database', () => database.close());
  return database;
}
