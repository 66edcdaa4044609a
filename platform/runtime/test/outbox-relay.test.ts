import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import type { FauxqsServer } from 'fauxqs';
import { openDatabase, type Database, type Migration } from '../src/database/index.js';
import {
  createOutbox,
  startOutboxRelay,
  type OutboxMessage,
  type OutboxPublish,
  type OutboxRelay,
} from '../src/outbox/index.js';
import { describeEachEngine, describePostgresTier, silentLog } from './support/db-engines.js';
import { createQueue, receiveAll, snsSqsPublish, topicWithQueue } from './support/db-outbox-publisher.js';
import { until } from './support/messaging-queues.js';
import { emulatorClients, startMessagingEmulator, type EmulatorClients } from './support/messaging-stack.js';

interface OrdersDB {
  orders: { id: string; total: number };
}
const MIGRATIONS: Migration[] = [
  { version: 1, name: 'orders', up: 'create table orders (id text primary key, total int not null)' },
];

let server: FauxqsServer;
let clients: EmulatorClients;
beforeAll(async () => {
  const emulator = await startMessagingEmulator();
  server = emulator.server;
  clients = emulatorClients(emulator.endpoint);
});
afterAll(async () => {
  clients.sns.destroy();
  clients.sqs.destroy();
  await server.stop();
});

let counter = 0;
/** A fresh topic + subscribed queue and a command queue per test, so tests never read each other's messages. */
async function destinations() {
  counter += 1;
  const topic = await topicWithQueue(clients, `order-events-${counter}`);
  const commands = await createQueue(clients, `payments-charge-${counter}`);
  const publish = snsSqsPublish(clients, {
    topics: { 'order-events': topic.topicArn },
    queues: { 'payments/charge': commands },
  });
  return { topic, commands, publish };
}

describeEachEngine('outbox relay', (engine) => {
  let database: Database<OrdersDB>;
  const relays: OutboxRelay[] = [];
  const relay = (
    publish: OutboxPublish,
    extra: { retry?: { baseDelayMs: number; maxDelayMs: number } } = {},
  ) => {
    // A long poll interval: only the wake-up after commit (or a scheduled retry) can publish in these tests.
    const started = startOutboxRelay({ database, publish, log: silentLog, intervalMs: 60_000, ...extra });
    relays.push(started);
    return started;
  };
  beforeAll(async () => {
    database = await openDatabase<OrdersDB>({
      ...(await engine.fresh()),
      migrations: MIGRATIONS,
      log: silentLog,
    });
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await sql`delete from flotilla_outbox`.execute(database.db);
  });
  afterAll(() => database.close());

  test('publishes committed events right after the commit, and nothing of a rolled-back transaction', async () => {
    const { topic, publish } = await destinations();
    const outbox = createOutbox({ database, source: 'orders' });
    relay(publish);

    const committed = await database.transaction(async (trx) => {
      await trx.insertInto('orders').values({ id: 'o-1', total: 30 }).execute();
      const ids = [];
      for (const n of [1, 2, 3]) {
        ids.push((await outbox.publish(trx, 'order-events', { type: 'order.placed', data: { n } })).id);
      }
      return ids;
    });
    let rolledBack = '';
    await database
      .transaction(async (trx) => {
        rolledBack = (await outbox.publish(trx, 'order-events', { type: 'order.placed', data: { n: 4 } })).id;
        throw new Error('payment declined');
      })
      .catch(() => undefined);

    const received = await receiveAll(clients, topic.queueUrl, 3);
    expect(received.map((r) => r.id).sort()).toEqual([...committed].sort());
    expect(received.map((r) => r.id)).not.toContain(rolledBack);
    expect(received.every((r) => r.type === 'order.placed')).toBe(true);
    await until(async () => (await outbox.pending()) === 0, 10_000);
  });

  test('send delivers a command to a queue with its envelope and trace context', async () => {
    const { commands, publish } = await destinations();
    const outbox = createOutbox({ database, source: 'orders' });
    relay(publish);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const envelope = await database.transaction((trx) =>
      outbox.send(trx, 'payments/charge', { type: 'payment.charge', data: { amount: 30 }, traceparent }),
    );
    expect(envelope).toMatchObject({ type: 'payment.charge', source: 'orders', data: { amount: 30 } });
    const received = await receiveAll(clients, commands, 1);
    expect(received).toEqual([{ id: envelope.id, type: 'payment.charge', traceparent }]);
  });

  test('a partial batch failure is retried; later rows of that destination wait for it; each arrives once', async () => {
    const { topic, publish } = await destinations();
    const outbox = createOutbox({ database, source: 'orders' });
    const calls: string[][] = [];
    let failedOnce = '';
    // Reports the third message of the first batch as failed (without sending it), like a throttled entry.
    const flaky: OutboxPublish = async (messages) => {
      calls.push(messages.map((m) => m.envelope.id));
      if (!failedOnce) {
        failedOnce = messages[2]!.envelope.id;
        const result = await publish(messages.filter((m) => m.envelope.id !== failedOnce));
        return { failedIds: [...result.failedIds, failedOnce], reasons: { [failedOnce]: 'Throttled' } };
      }
      return publish(messages);
    };
    const written = await database.transaction(async (trx) => {
      const ids: string[] = [];
      for (let n = 1; n <= 15; n++)
        ids.push((await outbox.publish(trx, 'order-events', { type: 'order.placed', data: { n } })).id);
      return ids;
    });
    const started = relay(flaky, { retry: { baseDelayMs: 100, maxDelayMs: 100 } });

    const received = await receiveAll(clients, topic.queueUrl, 15);
    expect(received.map((r) => r.id).sort()).toEqual([...written].sort());
    expect(failedOnce).toBe(written[2]);
    expect(calls[0]).toEqual(written.slice(0, 10));
    // Rows 11-15 are handed over only with or after the retried row 3, never before it.
    const retryCall = calls.findIndex((c, i) => i > 0 && c.includes(written[2]!));
    const firstWithEleven = calls.findIndex((c) => c.includes(written[10]!));
    expect(retryCall).toBeGreaterThan(0);
    expect(firstWithEleven).toBeGreaterThanOrEqual(retryCall);
    expect(calls[retryCall]![0]).toBe(written[2]);
    const flattened = calls.flat();
    expect(flattened.indexOf(written[2]!, 3)).toBeLessThan(flattened.indexOf(written[10]!));

    await until(async () => (await outbox.pending()) === 0, 10_000); // marked sent (committed on a server)
    const row = await sql<{ attempts: number; last_error: string; sent: boolean }>`
      select attempts, last_error, sent_at is not null as sent from flotilla_outbox where event_id = ${written[2]}`.execute(
      database.db,
    );
    expect(row.rows).toEqual([{ attempts: 1, last_error: 'Throttled', sent: true }]);
    expect(started.stats()).toMatchObject({ published: 15, failed: 1 });
  });

  test('a publish that throws is retried with backoff and nothing is skipped', async () => {
    const { topic, publish } = await destinations();
    const outbox = createOutbox({ database, source: 'orders' });
    let failures = 0;
    const down: OutboxPublish = async (messages) => {
      if (failures < 2) {
        failures += 1;
        throw new Error('SNS unavailable');
      }
      return publish(messages);
    };
    relay(down, { retry: { baseDelayMs: 50, maxDelayMs: 200 } });
    const ids = await database.transaction(async (trx) => [
      (await outbox.publish(trx, 'order-events', { type: 'order.placed', data: {} })).id,
      (await outbox.publish(trx, 'order-events', { type: 'order.paid', data: {} })).id,
    ]);
    const received = await receiveAll(clients, topic.queueUrl, 2);
    expect(received.map((r) => r.id).sort()).toEqual([...ids].sort());
    const { rows } = await sql<{
      attempts: number;
    }>`select attempts from flotilla_outbox order by sequence`.execute(database.db);
    expect(rows).toEqual([{ attempts: 2 }, { attempts: 2 }]);
  });

  test('a failing destination does not hold back another destination', async () => {
    const { topic, publish } = await destinations();
    const outbox = createOutbox({ database, source: 'orders' });
    relay(publish, { retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const [stuck, fine] = await database.transaction(async (trx) => [
      await outbox.publish(trx, 'no-such-topic', { type: 'order.placed', data: {} }),
      await outbox.publish(trx, 'order-events', { type: 'order.placed', data: {} }),
    ]);
    const received = await receiveAll(clients, topic.queueUrl, 1);
    expect(received.map((r) => r.id)).toEqual([fine!.id]);
    // On a server the relay marks the batch in the transaction that published it: wait for that commit.
    const stuckRow = async () =>
      (
        await sql<{ last_error: string | null; sent: boolean }>`
          select last_error, sent_at is not null as sent from flotilla_outbox where event_id = ${stuck!.id}`.execute(
          database.db,
        )
      ).rows;
    await until(async () => (await stuckRow())[0]?.last_error !== null, 10_000);
    expect(await stuckRow()).toEqual([{ last_error: 'no topic named no-such-topic', sent: false }]);
  });

  test('stop waits for the batch in flight to be published and marked', async () => {
    const { publish } = await destinations();
    const outbox = createOutbox({ database, source: 'orders' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    const slow: OutboxPublish = async (messages: readonly OutboxMessage[]) => {
      entered = true;
      await gate;
      return publish(messages);
    };
    const started = relay(slow);
    await database.transaction((trx) =>
      outbox.publish(trx, 'order-events', { type: 'order.placed', data: {} }),
    );
    await until(() => entered, 10_000);
    let stopped = false;
    const stopping = started.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await outbox.pending()).toBe(0);
  });

  test('outbox.publish validates the payload against the schemas and fails the transaction', async () => {
    const { z } = await import('zod');
    const outbox = createOutbox({
      database,
      source: 'orders',
      schemas: { 'order.placed': z.object({ orderId: z.string(), total: z.number().int() }) },
    });
    await expect(
      database.transaction(async (trx) => {
        await trx.insertInto('orders').values({ id: 'o-invalid', total: 1 }).execute();
        await outbox.publish(trx, 'order-events', {
          type: 'order.placed',
          data: { orderId: 'o-invalid', total: 1.5 },
        });
      }),
    ).rejects.toThrow(/order\.placed/);
    const orders = await database.db.selectFrom('orders').where('id', '=', 'o-invalid').selectAll().execute();
    expect(orders).toEqual([]);
    expect(await outbox.pending()).toBe(0);
  });
});

describePostgresTier('outbox relay replicas', (engine) => {
  test('two relays on one database publish every row exactly once, in order', async () => {
    const location = await engine.fresh();
    const [a, b] = await Promise.all([
      openDatabase<OrdersDB>({ ...location, migrations: MIGRATIONS, log: silentLog }),
      openDatabase<OrdersDB>({ ...location, migrations: MIGRATIONS, log: silentLog }),
    ]);
    const seen: string[] = [];
    const record: OutboxPublish = async (messages) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(...messages.map((m) => m.envelope.id));
      return { failedIds: [] };
    };
    const relays = [a, b].map((database) =>
      startOutboxRelay({ database, publish: record, log: silentLog, intervalMs: 20 }),
    );
    try {
      const outboxes = [a, b].map((database) => createOutbox({ database, source: 'orders' }));
      const written: string[] = [];
      for (let i = 0; i < 6; i++) {
        const database = i % 2 ? a : b;
        const outbox = outboxes[i % 2]!;
        written.push(
          ...(await database.transaction(async (trx) => {
            const ids = [];
            for (let n = 0; n < 5; n++)
              ids.push(
                (await outbox.publish(trx, 'order-events', { type: 'order.placed', data: { i, n } })).id,
              );
            return ids;
          })),
        );
      }
      await until(async () => (await outboxes[0]!.pending()) === 0, 10_000);
      expect(seen).toEqual(written);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await Promise.all([a.close(), b.close()]);
    }
  });
});
