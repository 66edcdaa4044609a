/**
 * Versioned schema migrations, recorded in `flotilla_migrations` and run at start in one transaction under
 * a PostgreSQL advisory lock, so replicas that start together apply each migration exactly once.
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from '../kit.js';

/**
 * One schema change of a service. Migrations are append-only: once applied, a migration's version and name
 * must stay in the code (its body may be edited only if the edit changes nothing on a database that already
 * ran it). Add new ones with a higher version.
 *
 * `up` is either SQL text (several statements allowed, run with the simple query protocol) or a function that
 * gets the migration transaction. Statements that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`,
 * `ALTER TYPE ... ADD VALUE` before PostgreSQL 12) are not supported.
 */
export interface Migration {
  /** Positive integer, unique within the service; migrations run in ascending order. */
  readonly version: number;
  /** Short name recorded with the version (e.g. `create_orders`); a mismatch later is reported as an error. */
  readonly name: string;
  /** SQL text, or a function receiving the migration transaction. */
  readonly up: string | ((db: Kysely<unknown>) => Promise<void>);
}

/** Migrations of the kit itself (inbox, outbox) and those of the service are versioned separately. */
export type MigrationScope = 'flotilla' | 'service';

/** Thrown when the migrations in code do not match what the database recorded. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

interface MigrationRow {
  scope: string;
  version: number;
  name: string;
}

/** Arbitrary constant: the first key of the advisory lock (the second is a hash of the schema). */
const MIGRATION_LOCK_CLASS = 0x666c6f; // "flo"

/** Checks versions and names of migrations in code (no database needed); returns them sorted by version. */
export function validateMigrations(migrations: readonly Migration[], scope: MigrationScope): Migration[] {
  const seen = new Map<number, Migration>();
  for (const [index, migration] of migrations.entries()) {
    const where = `migrations[${index}] (${scope})`;
    if (!Number.isSafeInteger(migration.version) || migration.version < 1) {
      throw new MigrationError(
        `${where}: version ${String(migration.version)} is not a positive integer. Number migrations 1, 2, 3, ...`,
      );
    }
    if (typeof migration.name !== 'string' || migration.name.trim() === '') {
      throw new MigrationError(
        `${where}: migration ${migration.version} has no name. Give it a short name such as 'create_orders'.`,
      );
    }
    const twin = seen.get(migration.version);
    if (twin) {
      throw new MigrationError(
        `${where}: version ${migration.version} is used twice ('${twin.name}' and '${migration.name}'). Give the newer one the next free version.`,
      );
    }
    seen.set(migration.version, migration);
  }
  return [...seen.values()].sort((a, b) => a.version - b.version);
}

function plan(code: Migration[], recorded: MigrationRow[], scope: MigrationScope): Migration[] {
  const byVersion = new Map(code.map((m) => [m.version, m]));
  for (const row of recorded) {
    const migration = byVersion.get(row.version);
    if (!migration) {
      throw new MigrationError(
        `Migration ${row.version} '${row.name}' (${scope}) is recorded in flotilla_migrations but missing from the code. ` +
          `Migrations are append-only: restore it with version ${row.version} and name '${row.name}'.`,
      );
    }
    if (migration.name !== row.name) {
      throw new MigrationError(
        `Migration ${row.version} (${scope}) is named '${migration.name}' in the code but was applied as '${row.name}'. ` +
          `Restore the name '${row.name}'; add changes as a new migration with a higher version.`,
      );
    }
  }
  const highest = Math.max(0, ...recorded.map((r) => r.version));
  const applied = new Set(recorded.map((r) => r.version));
  const pending = code.filter((m) => !applied.has(m.version));
  const late = pending.find((m) => m.version < highest);
  if (late) {
    throw new MigrationError(
      `Migration ${late.version} '${late.name}' (${scope}) is new but migration ${highest} is already applied, so it would run out of order. ` +
        `Renumber it above ${highest}.`,
    );
  }
  return pending;
}

/** Result of {@link runMigrations}: the migrations this call applied (empty when the schema was current). */
export interface MigrationReport {
  readonly applied: readonly { scope: MigrationScope; version: number; name: string }[];
}

/**
 * Applies pending migrations of each scope, in order, in one transaction holding
 * `pg_advisory_xact_lock`; a second replica waits for the lock and then finds nothing to do. If any migration
 * fails, none of this run's migrations is kept.
 */
export async function runMigrations(
  db: Kysely<unknown>,
  sets: readonly { scope: MigrationScope; migrations: readonly Migration[] }[],
  log: Logger,
): Promise<MigrationReport> {
  const validated = sets.map((set) => ({
    scope: set.scope,
    code: validateMigrations(set.migrations, set.scope),
  }));
  const applied: { scope: MigrationScope; version: number; name: string }[] = [];
  await db.transaction().execute(async (trx: Transaction<unknown>) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_CLASS)}, hashtext(current_schema()))`.execute(
      trx,
    );
    await sql`create table if not exists flotilla_migrations (
      scope text not null,
      version integer not null,
      name text not null,
      applied_at timestamptz not null default now(),
      primary key (scope, version)
    )`.execute(trx);
    const { rows } =
      await sql<MigrationRow>`select scope, version, name from flotilla_migrations order by version`.execute(
        trx,
      );
    for (const { scope, code } of validated) {
      for (const migration of plan(
        code,
        rows.filter((r) => r.scope === scope),
        scope,
      )) {
        try {
          if (typeof migration.up === 'string') await sql.raw(migration.up).execute(trx);
          else await migration.up(trx);
        } catch (error) {
          throw new MigrationError(
            `Migration ${migration.version} '${migration.name}' (${scope}) failed: ${(error as Error).message}. ` +
              `No migration of this run was applied; fix the migration and restart.`,
            { cause: error },
          );
        }
        await sql`insert into flotilla_migrations (scope, version, name) values (${scope}, ${migration.version}, ${migration.name})`.execute(
          trx,
        );
        applied.push({ scope, version: migration.version, name: migration.name });
      }
    }
  });
  if (applied.length > 0) log.info({ applied }, `applied ${applied.length} database migration(s)`);
  return { applied };
}
