/**
 * Every database call has a deadline: getting a connection (a server that accepts and never answers), a
 * statement (the server cancels it), a transaction left idle (the server ends it), a server that stops
 * answering in the middle of a session (the client gives up and drops the connection), and on PGlite a call
 * waiting for the single session. Bounds are generous: what matters is that the call fails instead of
 * hanging, and that the service's database works again afterwards.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  ConfigError,
  createService,
  loadConfig,
  openDatabase,
  useDatabase,
  type Database,
} from '../src/index.js';
import {
  describePostgresTier,
  pgliteTestEngine,
  silentLog,
  type DatabaseLocation,
} from './support/db-engines.js';
import { memoryLog } from './support/memory-log.js';

/** Settles with the outcome of `promise`, or 'pending' when it has not settled after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<PromiseSettledResult<T> | 'pending'> {
  const settled = Promise.allSettled([promise]).then(([r]) => r!);
  const timeout = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms).unref());
  return Promise.race([settled, timeout]);
}

function rejection(outcome: PromiseSettledResult<unknown> | 'pending'): Error {
  if (outcome === 'pending') throw new Error('still pending: the call has no deadline');
  if (outcome.status === 'fulfilled') throw new Error('the call succeeded; expected it to fail');
  return outcome.reason as Error;
}

/** A TCP server that accepts connections and never sends a byte. */
async function silentServer(): Promise<{ port: number; sockets: Socket[]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () => closeServer(server, sockets),
  };
}

function closeServer(server: Server, sockets: Socket[]): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A TCP proxy to the PostgreSQL server that can go silent: while `blackhole` is on, nothing is forwarded in
 * either direction and new connections are accepted and left unanswered (a hung host, a partition).
 */
async function pgProxy(
  target: URL,
): Promise<{ url: string; blackhole(on: boolean): void; close(): Promise<void> }> {
  let silent = false;
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    sockets.push(client);
    client.on('error', () => undefined);
    if (silent) return;
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.push(upstream);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk) => {
      if (!silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!silent) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    blackhole: (on) => {
      silent = on;
    },
    close: () => closeServer(server, sockets),
  };
}

function serverUrl(location: DatabaseLocation): string {
  if (!('url' in location)) throw new Error('expected a server database');
  return location.url;
}

const opened: Database<unknown>[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close().catch(() => undefined)));
});

describe('database deadlines', () => {
  test('opening a database on a server that accepts and never answers fails within the connect deadline', async () => {
    const server = await silentServer();
    try {
      const opening = openDatabase({
        url: `postgres://user:secret@127.0.0.1:${server.port}/db`,
        migrations: [],
        log: silentLog,
        timeouts: { connectMs: 500 },
      });
      const error = rejection(await within(opening, 15_000));
      expect(error.message).toMatch(
        /Cannot use the database at postgres:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/db/,
      );
      expect(error.message).toMatch(/timeout/i);
      expect(server.sockets.length).toBeGreaterThan(0); // it did connect: the server just never answered
    } finally {
      await server.close();
    }
  });

  test('the deadlines are configuration: defaults, variables, and one error naming a bad variable', () => {
    const base = { SERVICE_NAME: 'orders', PORT: '0', FLOTILLA_ENVIRONMENT: 'test' };
    expect(loadConfig(undefined, base).database).toEqual({
      timeouts: { connectMs: 5000, statementMs: 10_000, idleInTransactionMs: 30_000 },
      retention: { inboxHours: 360, outboxSentHours: 24, outboxDeadLetterHours: 336 },
    });
    expect(
      loadConfig(undefined, {
        ...base,
        DATABASE_CONNECT_TIMEOUT_MS: '1500',
        DATABASE_STATEMENT_TIMEOUT_MS: '0',
        INBOX_RETENTION_HOURS: '48',
      }).database,
    ).toMatchObject({
      timeouts: { connectMs: 1500, statementMs: 0, idleInTransactionMs: 30_000 },
      retention: { inboxHours: 48 },
    });
    let error: unknown;
    try {
      loadConfig(undefined, { ...base, DATABASE_STATEMENT_TIMEOUT_MS: '10s' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/DATABASE_STATEMENT_TIMEOUT_MS/);
  });
});

describe('database deadlines [pglite]', () => {
  const engine = pgliteTestEngine();

  test('a call waiting for the session while a transaction holds it fails after the connect deadline', async () => {
    const database = await openDatabase({
      ...(await engine.fresh()),
      migrations: [],
      log: silentLog,
      timeouts: { connectMs: 300 },
    });
    opened.push(database);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = database.transaction(async (trx) => {
      await sql`select 1`.execute(trx);
      await held; // a transaction that does not end (awaiting something else)
    });
    const error = rejection(await within(sql`select 1`.execute(database.db), 15_000));
    expect(error.name).toBe('PGliteSessionTimeoutError');
    expect(error.message).toMatch(/busy for 300 ms.*Keep transactions short/);
    release();
    await transaction;
    // The session is free again, and the caller that gave up did not leave a stale turn behind.
    await expect(sql`select 1 as one`.execute(database.db)).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });
});

describePostgresTier('database deadlines', (engine) => {
  test('the server cancels a statement that runs past the statement deadline; the pool goes on', async () => {
    const database = await openDatabase({
      ...(await engine.fresh()),
      migrations: [],
      log: silentLog,
      timeouts: { statementMs: 300 },
    });
    opened.push(database);
    const error = rejection(await within(sql`select pg_sleep(5)`.execute(database.db), 15_000));
    expect(error.message).toMatch(/canceling statement due to statement timeout/);
    await expect(sql`select 1 as one`.execute(database.db)).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  test('a transaction left idle past the deadline is ended by the server, without crashing the process', async () => {
    const database = await openDatabase({
      ...(await engine.fresh()),
      migrations: [],
      log: silentLog,
      timeouts: { idleInTransactionMs: 300 },
    });
    opened.push(database);
    const transaction = database.transaction(async (trx) => {
      await sql`select 1`.execute(trx);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // idle inside the transaction
      await sql`select 2`.execute(trx);
    });
    const error = rejection(await within(transaction, 15_000));
    expect(error.message).toMatch(/The database ended this connection: .*idle-in-transaction timeout/);
    await expect(sql`select 1 as one`.execute(database.db)).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  test('a server that stops answering mid-session: the call fails within its deadline, and the pool recovers', async () => {
    const proxy = await pgProxy(new URL(serverUrl(await engine.fresh())));
    try {
      const database = await openDatabase({
        url: proxy.url,
        migrations: [],
        log: silentLog,
        poolSize: 2,
        timeouts: { connectMs: 1000, statementMs: 200 },
      });
      opened.push(database);
      await sql`select 1`.execute(database.db); // a pooled connection through the proxy
      proxy.blackhole(true);
      // The statement deadline cannot fire (the server never sees the query): the client-side backstop
      // (statement + 5 s) does.
      const error = rejection(await within(sql`select 1`.execute(database.db), 20_000));
      expect(error.message).toMatch(/Query read timeout|timeout/);
      proxy.blackhole(false);
      // The silent connection was dropped, not handed to the next caller.
      const after = await within(sql`select 1 as one`.execute(database.db), 15_000);
      expect(after).toMatchObject({ status: 'fulfilled', value: { rows: [{ one: 1 }] } });
    } finally {
      await proxy.close();
    }
  }, 60_000);

  test('useDatabase takes the deadlines from the service variables', async () => {
    const url = serverUrl(await engine.fresh());
    const svc = createService({
      name: 'deadlines',
      manageProcess: false,
      logDestination: memoryLog(),
      env: {
        SERVICE_NAME: 'deadlines',
        PORT: '0',
        FLOTILLA_ENVIRONMENT: 'test',
        OTEL_SDK_DISABLED: 'true',
        DATABASE_URL: url,
        DATABASE_STATEMENT_TIMEOUT_MS: '1234',
        DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '4321',
      },
    });
    const database = await useDatabase(svc, { migrations: [], timeouts: { statementMs: 9999 } });
    opened.push(database as Database<unknown>);
    const { rows } = await sql<{ statement: string; idle: string }>`
      select current_setting('statement_timeout') as statement,
        current_setting('idle_in_transaction_session_timeout') as idle`.execute(database.db);
    expect(rows).toEqual([{ statement: '1234ms', idle: '4321ms' }]);
  });
});
