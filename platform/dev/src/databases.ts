/**
 * The services' databases on the local stack: embedded PGlite directories copied from the cached template
 * (the default), or one database per service on a PostgreSQL server. On a server, each service's URL is
 * handed over the way the cluster does it: `envFor` names the Secret `<service>-db` (key `url`), and the
 * stack fills in that Secret's value.
 */
import { DATABASE_SECRET_KEY, databaseSecretName, type ServiceEnv } from '@flotilla/model';
import { createPgliteDataDir, isPgliteDataDir } from '@flotilla/runtime/pglite-template';

/** A PostgreSQL server the stack puts every service's database on. */
export interface PostgresServerOptions {
  /**
   * Connection URL of the server, whose user may create databases, e.g.
   * `postgres://user:password@127.0.0.1:5432/postgres`. Its database part is replaced by each service's.
   * @see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS
   */
  readonly url: string;
  /** Each service's database is `<databasePrefix><service>`, created when missing and kept after. @default `<system>_` */
  readonly databasePrefix?: string;
}

/** Values of Secrets by name and key, as `envFor`'s `{ secret: { name, key } }` variables refer to them. */
export type Secrets = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** Creates the embedded database of each directory that has none yet (a copy of the template). */
export async function ensureEmbeddedDatabases(dirs: readonly string[], templateDir: string): Promise<void> {
  for (const dir of dirs) {
    if (!(await isPgliteDataDir(dir))) await createPgliteDataDir(dir, { template: templateDir });
  }
}

/** PostgreSQL identifiers are at most 63 bytes. @see https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS */
const MAX_IDENTIFIER_LENGTH = 63;

/** The database name and URL of each service on the server. */
export function serverDatabases(
  server: PostgresServerOptions,
  systemName: string,
  services: readonly string[],
): { service: string; name: string; url: string }[] {
  const prefix = server.databasePrefix ?? `${systemName}_`;
  return services.map((service) => {
    const name = `${prefix}${service}`;
    if (Buffer.byteLength(name) > MAX_IDENTIFIER_LENGTH || name.includes('"')) {
      throw new Error(
        `The database name "${name}" of service ${service} is not a PostgreSQL identifier (at most ` +
          `${MAX_IDENTIFIER_LENGTH} bytes, no double quote): choose a shorter databasePrefix.`,
      );
    }
    const url = new URL(server.url);
    url.pathname = `/${encodeURIComponent(name)}`;
    return { service, name, url: url.toString() };
  });
}

/** Creates each database that does not exist yet on the server; existing ones (and their data) are kept. */
export async function ensureServerDatabases(serverUrl: string, names: readonly string[]): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Cannot connect to the PostgreSQL server at ${redactUrl(serverUrl)} for the services' databases: ` +
        `${(err as Error).message}. Check that it runs and that the URL, user and password are right.`,
      { cause: err },
    );
  }
  try {
    for (const name of names) {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (rowCount === 0) await client.query(`create database "${name}"`);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops the databases `names` on the server (and the sessions still on them); missing ones are skipped. */
export async function dropServerDatabases(serverUrl: string, names: readonly string[]): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    for (const name of names) await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The Secrets `<service>-db` that hold each service's database URL in a cluster. */
export function databaseSecrets(databases: readonly { service: string; url: string }[]): Secrets {
  return Object.fromEntries(
    databases.map((d) => [databaseSecretName(d.service), { [DATABASE_SECRET_KEY]: d.url }]),
  );
}

/**
 * A service's variables as literals: `envFor`'s own, and its Secret references filled in from `secrets`
 * (what the cluster's Secrets hold). A reference nothing fills is an error naming it.
 */
export function resolveEnv(service: string, vars: ServiceEnv, secrets: Secrets): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (typeof value === 'string') out[name] = value;
    else if ('secret' in value) {
      const resolved = secrets[value.secret.name]?.[value.secret.key];
      if (resolved === undefined) {
        throw new Error(
          `Service ${service}: ${name} comes from the Secret ${value.secret.name} (key ${value.secret.key}), ` +
            'which the local stack does not provide.',
        );
      }
      out[name] = resolved;
    }
  }
  return out;
}

/** The URL with its password replaced, for messages and the ready table. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}
