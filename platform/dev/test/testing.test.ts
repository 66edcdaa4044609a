import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { consumeQueueUrlVar, ENV, peerUrlVar } from '@flotilla/model';
import { z } from 'zod';
import pg from 'pg';
import { eventually, startTestStack, testEngines, type TestStack } from '../src/testing.js';
import { describePostgresTier, emulatorClients, testSystem } from './support.js';

const thingEvents = {
  'thing.created': z.object({ id: z.string() }),
  'thing.deleted': z.object({ id: z.string() }),
};

describe('@flotilla/dev/testing', () => {
  let stack: TestStack;
  let clients: ReturnType<typeof emulatorClients>;
  let sqs: SQSClient;
  beforeAll(async () => {
    stack = await startTestStack(testSystem);
    clients = emulatorClients(stack.messagingEndpoint);
    ({ sqs } = clients);
  });
  afterAll(async () => {
    clients.destroy();
    await stack?.stop();
  });

  const receive = async (service: string): Promise<string[]> => {
    const url = stack.varsFor(service)[consumeQueueUrlVar('things')]!;
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    return Messages.map((m) => (JSON.parse(m.Body!) as { type: string }).type);
  };

  it("gives a service envFor's variables with an ephemeral port, telemetry off and the test's overrides", () => {
    const vars = stack.varsFor('web', {
      [peerUrlVar('catalog')]: 'http://127.0.0.1:5555',
      LOG_LEVEL: 'debug',
    });
    expect(vars).toMatchObject({
      PORT: '0',
      OTEL_SDK_DISABLED: 'true',
      LOG_LEVEL: 'debug',
      [peerUrlVar('catalog')]: 'http://127.0.0.1:5555',
    });
    expect(vars[ENV.databaseDir]).toMatch(/flotilla-test-devtest-[^/]+\/web$/);
    expect(() => stack.varsFor('nope')).toThrow(/nope/);
  });

  it("publishes as a service to the model's topic, through its subscriptions and their filters", async () => {
    const web = stack.publisherAs('web', thingEvents);
    await web.publish('things', 'thing.created', { id: 't-1' });
    // worker takes thing.created only, audit everything, catalog thing.deleted only.
    expect(
      await eventually('worker got it', async () => {
        const got = await receive('worker');
        return got.length ? got : undefined;
      }),
    ).toEqual(['thing.created']);
    expect(await receive('audit')).toEqual(['thing.created']);
    expect(await receive('catalog')).toEqual([]);
    await expect(web.publish('things', 'thing.created', { id: 7 } as never)).rejects.toThrow();
  });

  it('eventually returns the first value the probe gives, and names what it waited for when it times out', async () => {
    let calls = 0;
    expect(await eventually('three calls', async () => (++calls === 3 ? 'done' : undefined))).toBe('done');
    expect(calls).toBe(3);
    await expect(eventually('the impossible', async () => undefined, 300)).rejects.toThrow(
      'timed out waiting for the impossible (300 ms)',
    );
  });

  it('stop removes the databases directory', async () => {
    const other = await startTestStack(testSystem);
    const databases = dirname(other.varsFor('web')[ENV.databaseDir]!);
    expect((await stat(databases)).isDirectory()).toBe(true);
    await other.stop();
    await expect(stat(databases)).rejects.toThrow();
  });
});

describePostgresTier('@flotilla/dev/testing on a server', (url) => {
  const databasesOn = async (names: readonly string[]): Promise<string[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ datname: string }>(
        'select datname from pg_database where datname = any($1) order by datname',
        [names],
      );
      return rows.map((r) => r.datname);
    } finally {
      await client.end();
    }
  };

  it('gives each service with a database a new one on the server, by DATABASE_URL, and stop drops them', async () => {
    const [a, b] = [
      await startTestStack(testSystem, { postgres: { url } }),
      await startTestStack(testSystem, { postgres: { url } }),
    ];
    const names = [a, b].flatMap((stack) =>
      ['web', 'catalog'].map((service) => {
        const vars = stack.varsFor(service);
        expect(vars[ENV.databaseDir]).toBeUndefined();
        return new URL(vars[ENV.databaseUrl]!).pathname.slice(1);
      }),
    );
    expect(a.varsFor('worker')[ENV.databaseUrl]).toBeUndefined();
    expect(new Set(names).size).toBe(4);
    expect(await databasesOn(names)).toEqual([...names].sort());
    // The database is one a service can use.
    const web = new pg.Client({ connectionString: a.varsFor('web')[ENV.databaseUrl]! });
    await web.connect();
    await web.query('create table t (id int)');
    await web.end();

    await a.stop();
    await b.stop();
    expect(await databasesOn(names)).toEqual([]);
  });

  it('testEngines lists PGlite and this server', () => {
    expect(testEngines({ FLOTILLA_TEST_PG_URL: url })).toEqual([
      { name: 'pglite', stackOptions: {} },
      { name: 'postgres', stackOptions: { postgres: { url } } },
    ]);
  });
});

describe('testEngines without a server', () => {
  it('is PGlite alone, or an error naming the variable when the Postgres tier is required', () => {
    expect(testEngines({}).map((e) => e.name)).toEqual(['pglite']);
    expect(() => testEngines({ FLOTILLA_REQUIRE_PG_TIER: '1' })).toThrow(/FLOTILLA_TEST_PG_URL/);
  });
});
