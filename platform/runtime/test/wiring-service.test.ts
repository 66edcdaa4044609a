/**
 * The wiring against real components: two services of a small system, each with its own PGlite database,
 * on the fauxqs emulator provisioned from the model, talking over real HTTP. Every variable comes from
 * envFor; the services name none by hand.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineService, defineSystem, defineTopic, envFor, literalEnv, peerUrlVar } from '@flotilla/model';
import { sql } from 'kysely';
import { z } from 'zod';
import {
  createService,
  STOP_PHASES,
  useClients,
  useConsumer,
  useDatabase,
  useOutbox,
  usePublisher,
  WiringConfigError,
  type Consumer,
  type Database,
  type Service,
} from '../src/index.js';
import { memoryLog } from './support/memory-log.js';
import { startMessagingStack, type MessagingStack } from './support/messaging-stack.js';

const system = defineSystem({
  name: 'wire',
  topics: [defineTopic({ name: 'things', events: ['thing.made'] })],
  services: [
    defineService({ name: 'front', port: 9101, publishes: ['things'], calls: ['back'], database: true }),
    defineService({ name: 'back', port: 9102, consumes: [{ topic: 'things' }], database: true }),
  ],
});
const events = { 'thing.made': z.object({ name: z.string() }) };

interface FrontTables {
  things: { name: string };
}
interface BackTables {
  seen: { name: string; event_id: string };
}

let stack: MessagingStack;
let dataDir: string;
let front: { svc: Service; url: string; database: Database<FrontTables> };
let back: { svc: Service; url: string; database: Database<BackTables>; consumer: Consumer };

function envOf(service: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...literalEnv(envFor(system, service, stack.env)),
    PORT: '0',
    OTEL_SDK_DISABLED: 'true',
    DATABASE_DIR: join(dataDir, service),
    ...extra,
  };
}

// The services below pass their variables to createService only: every use* call reads them from there
// (svc.env), as a service's main.ts does. None of them is in process.env.
beforeAll(async () => {
  stack = await startMessagingStack(system);
  dataDir = await mkdtemp(join(tmpdir(), 'flotilla-wiring-'));

  {
    const env = envOf('back');
    const svc = createService({ name: 'back', env, manageProcess: false, logDestination: memoryLog() });
    const database = await useDatabase<BackTables>(svc, {
      migrations: [{ version: 1, name: 'seen', up: 'create table seen (name text, event_id text)' }],
    });
    const consumer = useConsumer(svc, 'things', {
      schemas: events,
      inbox: database,
      waitTimeSeconds: 1,
      handler: async (event, ctx) => {
        await ctx.trx.insertInto('seen').values({ name: event.data.name, event_id: event.id }).execute();
      },
    });
    svc.router.get('/echo', (req, res) => {
      res.json({ requestId: req.get('x-request-id') });
    });
    const { url } = await svc.start();
    back = { svc, url, database, consumer };
  }
  {
    const env = envOf('front', { [peerUrlVar('back')]: back.url });
    const svc = createService({ name: 'front', env, manageProcess: false, logDestination: memoryLog() });
    const database = await useDatabase<FrontTables>(svc, {
      migrations: [{ version: 1, name: 'things', up: 'create table things (name text primary key)' }],
    });
    const publisher = usePublisher(svc, events);
    const outbox = useOutbox(svc, { database, publisher, schemas: events });
    const clients = useClients(svc);
    svc.router.post('/things/:name', async (req, res) => {
      const name = String(req.params.name);
      await database.transaction(async (trx) => {
        await trx.insertInto('things').values({ name }).execute();
        await outbox.publish(trx, 'things', { type: 'thing.made', data: { name } });
        if (name.startsWith('fail')) throw new Error('rolled back on purpose');
      });
      res.status(201).json({ name });
    });
    svc.router.get('/relay', async (_req, res) => {
      const { body } = await clients.client('back').get<{ requestId: string }>('/echo');
      res.json(body);
    });
    const { url } = await svc.start();
    front = { svc, url, database };
  }
}, 60_000);

afterAll(async () => {
  await front?.svc.stop().catch(() => undefined);
  await back?.svc.stop().catch(() => undefined);
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function seen(name: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from seen where name = ${name}`.execute(
    back.database.db,
  );
  return Number(rows[0]?.n ?? 0);
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('wiring', () => {
  test('a write and its event commit together: the event reaches the other service once; a rollback sends none', async () => {
    expect((await fetch(`${front.url}/things/first`, { method: 'POST' })).status).toBe(201);
    expect((await fetch(`${front.url}/things/fail-1`, { method: 'POST' })).status).toBe(500);
    await until('the event in back', async () => (await seen('first')) === 1);
    // Redelivery of the same envelope (as after a crash between publish and "mark sent"): no second effect.
    const [envelope] = (
      await sql<{ envelope: { id: string } }>`select envelope from flotilla_outbox`.execute(front.database.db)
    ).rows;
    const publisher = usePublisher(front.svc, events, { env: envOf('front') });
    await publisher.publish('things', 'thing.made', { name: 'first' }, { id: envelope!.envelope.id });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await seen('first')).toBe(1);
    expect(await seen('fail-1')).toBe(0);
  });

  test('a peer call made while serving a request carries that request id', async () => {
    const res = await fetch(`${front.url}/relay`, { headers: { 'x-request-id': 'req-wiring-42' } });
    expect(await res.json()).toEqual({ requestId: 'req-wiring-42' });
  });

  test('readiness covers the database and the consumer', async () => {
    const res = await fetch(`${back.url}/readyz`);
    expect(res.status).toBe(200);
    const body = JSON.stringify(await res.json());
    expect(body).toContain('database');
    expect(body).toContain('consumer');
  });

  test('a variable the model did not write is named with the declaration that writes it', async () => {
    const env = envOf('back');
    const svc = createService({ name: 'back', env, manageProcess: false, logDestination: memoryLog() });
    expect(() => useConsumer(svc, 'elsewhere', { env, schemas: events, handler: () => undefined })).toThrow(
      WiringConfigError,
    );
    expect(() => useConsumer(svc, 'elsewhere', { env, schemas: events, handler: () => undefined })).toThrow(
      /CONSUME_ELSEWHERE_QUEUE_URL is not set .*service 'back'.*consumes/,
    );
    const { DATABASE_DIR: _dir, ...noDatabase } = env;
    await expect(useDatabase(svc, { env: noDatabase, migrations: [] })).rejects.toThrow(
      /DATABASE_URL .*DATABASE_DIR/,
    );
  });

  test('stop runs consumers, outbox relay, AWS clients, database in that order, whatever the order of the calls', async () => {
    const env = envOf('back', { DATABASE_DIR: join(dataDir, 'late') });
    const svc = createService({ name: 'back', env, manageProcess: false, logDestination: memoryLog() });
    const stopped: string[] = [];
    // Consumer first, database last: the reverse of the order they must stop in.
    const consumer = useConsumer(svc, 'things', {
      env,
      schemas: events,
      waitTimeSeconds: 1,
      handler: () => undefined,
    });
    const database = await useDatabase(svc, { env, migrations: [] });
    // Observe (not replace) the close: the consumer must already be stopped when the database closes.
    const close = database.close.bind(database);
    (database as { close: () => Promise<void> }).close = () => {
      stopped.push(consumer.running ? 'database closed while consuming' : 'database closed after consumer');
      return close();
    };
    svc.lifecycle.onStop('probe', () => {
      stopped.push('probe'); // registered last, so it runs first: the wiring phases follow it
    });
    await svc.start();
    expect(consumer.running).toBe(true);
    expect(svc.lifecycle.stopOrder.filter((n) => n !== 'telemetry')).toEqual(['probe', ...STOP_PHASES]);
    await svc.stop();
    expect(stopped).toEqual(['probe', 'database closed after consumer']);
    expect(consumer.running).toBe(false);
    await expect(database.check()).rejects.toThrow(/closed/);
  });
});
