/**
 * What the outbox promises when delivery goes wrong, on both engines, against the SQS/SNS emulator through
 * the real publisher: a hung publish holds no lock or transaction and is cut by its deadline; a row that
 * fails as the sender's fault is retried alone (nothing later of its destination overtakes it) and parked
 * as a dead letter after `maxSenderFaults`, listed and re-driven; transient failures (connections refused,
 * throttling) never park a row; an event that could never be delivered fails the producer's transaction.
 */
import { CreateQueueCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { EMULATOR_CREDENTIALS } from '@flotilla/model';
import type { FauxqsServer } from 'fauxqs';
import { sql } from 'kysely';
import { openDatabase, type Database, type Migration } from '../src/database/index.js';
import { createPublisher, DestinationResolver, EventValidationError } from '../src/messaging/index.js';
import {
  createOutbox,
  outboxPublishVia,
  startOutboxRelay,
  type OutboxPublish,
  type OutboxRelay,
  type OutboxRelayOptions,
} from '../src/outbox/index.js';
import { startAwsFaultProxy, type AwsFaultProxy } from './support/aws-fault-proxy.js';
import { describeEachEngine, silentLog } from './support/db-engines.js';
import { receiveAll, topicWithQueue } from './support/db-outbox-publisher.js';
import { until } from './support/messaging-queues.js';
import { emulatorClients, startMessagingEmulator, type EmulatorClients } from './support/messaging-stack.js';

interface OrdersDB {
  orders: { id: string };
}
const MIGRATIONS: Migration[] = [
  { version: 1, name: 'orders', up: 'create table orders (id text primary key)' },
];

/** First key of the relay's advisory lock (`relay.ts`): "out". */
const RELAY_LOCK_CLASS = 0x6f7574;

let server: FauxqsServer;
let endpoint: string;
let clients: EmulatorClients;
let proxy: AwsFaultProxy;
let proxiedSqs: SQSClient;
beforeAll(async () => {
  ({ server, endpoint } = await startMessagingEmulator());
  clients = emulatorClients(endpoint);
  proxy = await startAwsFaultProxy(endpoint);
  // No SDK retries behind the proxy: each relay attempt is one call, so the test counts them exactly.
  proxiedSqs = new SQSClient({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials: EMULATOR_CREDENTIALS,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  proxiedSqs.destroy();
  await proxy.close();
  clients.sns.destroy();
  clients.sqs.destroy();
  await server.stop();
});

let counter = 0;
/** A fresh topic (with a subscribed queue) and command queue; the publish function the wiring builds. */
async function destinations(options: { maxQueueMessageBytes?: number; sqs?: SQSClient } = {}) {
  counter += 1;
  const topic = await topicWithQueue(clients, `delivery-events-${counter}`);
  const { QueueUrl } = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: `delivery-commands-${counter}`,
      ...(options.maxQueueMessageBytes
        ? { Attributes: { MaximumMessageSize: String(options.maxQueueMessageBytes) } }
        : {}),
    }),
  );
  const resolver = new DestinationResolver({
    topics: { events: topic.topicArn },
    queues: { 'payments/charge': QueueUrl! },
  });
  const publisher = createPublisher({
    source: 'orders',
    schemas: {},
    sqs: options.sqs ?? clients.sqs,
    sns: clients.sns,
    retry: { attempts: 1 },
  });
  const publish = outboxPublishVia(
    (kind, d) => (kind === 'topic' ? resolver.topicArn(d) : resolver.queueUrl(d)),
    (messages) => publisher.deliver(messages),
  );
  return { topicQueue: topic.queueUrl, commandQueue: QueueUrl!, publish };
}

/** Records the envelope ids of every publish call, in order. */
function recording(publish: OutboxPublish): { publish: OutboxPublish; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    publish: (messages, signal) => {
      calls.push(messages.map((m) => m.envelope.id));
      return publish(messages, signal);
    },
  };
}

describeEachEngine('outbox delivery', (engine) => {
  let database: Database<OrdersDB>;
  const relays: OutboxRelay[] = [];
  const relay = (publish: OutboxPublish, extra: Partial<OutboxRelayOptions<OrdersDB>> = {}) => {
    const started = startOutboxRelay({ database, publish, log: silentLog, intervalMs: 60_000, ...extra });
    relays.push(started);
    return started;
  };
  const outbox = () => createOutbox({ database, source: 'orders' });
  const row = async (eventId: string) =>
    (
      await sql<{ attempts: number; sent: boolean; parked: boolean; last_error: string | null }>`
        select attempts, sent_at is not null as sent, last_error,
          (to_jsonb(o) ->> 'dead_lettered_at') is not null as parked
        from flotilla_outbox o where event_id = ${eventId}`.execute(database.db)
    ).rows[0];

  beforeAll(async () => {
    database = await openDatabase<OrdersDB>({
      ...(await engine.fresh()),
      migrations: MIGRATIONS,
      log: silentLog,
    });
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    proxy.inject(() => undefined);
    await sql`delete from flotilla_outbox`.execute(database.db);
  });
  afterAll(() => database.close());

  test('a publish that hangs holds no lock or transaction, and its deadline frees its rows for a retry', async () => {
    const { topicQueue, publish } = await destinations();
    let calls = 0;
    const hangsOnce: OutboxPublish = (messages, signal) => {
      calls += 1;
      return calls === 1 ? new Promise(() => undefined) : publish(messages, signal);
    };
    relay(hangsOnce, { publishTimeoutMs: 1500, retry: { baseDelayMs: 50, maxDelayMs: 50 } });
    const box = outbox();
    const written = await database.transaction(async (trx) => [
      (await box.publish(trx, 'events', { type: 'order.placed', data: { n: 1 } })).id,
      (await box.publish(trx, 'events', { type: 'order.placed', data: { n: 2 } })).id,
    ]);
    await until(() => calls === 1, 10_000);

    // While the publish hangs, the rows it holds are not locked and nothing else of the service waits.
    const locked = await database.transaction(
      async (trx) =>
        (
          await sql<{ event_id: string }>`
            select event_id from flotilla_outbox order by sequence for update nowait`.execute(trx)
        ).rows,
    );
    expect(locked.map((r) => r.event_id)).toEqual(written);
    if (engine.kind === 'postgres') {
      // Another replica could take the relay lock at once, and no session sits in an open transaction.
      const lock = await database.transaction(
        async (trx) =>
          (
            await sql<{ locked: boolean }>`
              select pg_try_advisory_xact_lock(${sql.lit(RELAY_LOCK_CLASS)}, hashtext(current_schema())) as locked`.execute(
              trx,
            )
          ).rows[0]?.locked,
      );
      expect(lock).toBe(true);
      const { rows } = await sql<{ n: string }>`
        select count(*) as n from pg_stat_activity
        where datname = current_database() and state like 'idle in transaction%'`.execute(database.db);
      expect(Number(rows[0]!.n)).toBe(0);
    }

    // The deadline ends the hung call; the rows are published by the retry, in order.
    const received = await receiveAll(clients, topicQueue, 2, 20_000);
    expect(received.map((r) => r.id)).toEqual(written);
    expect(calls).toBe(2);
    await until(async () => (await box.pending()) === 0, 10_000);
    expect((await row(written[0]!))?.last_error).toMatch(/did not finish within 1500 ms/);
  }, 60_000);

  test('a row refused as the sender’s fault is retried alone, holds back its destination, then is parked and re-driven', async () => {
    // The queue takes at most 1 KiB: a 2 KB command passes the outbox's checks (256 KiB) and SQS refuses it
    // as the sender's fault, every time.
    const { commandQueue, topicQueue, publish } = await destinations({ maxQueueMessageBytes: 1024 });
    const recorded = recording(publish);
    const started = relay(recorded.publish, {
      maxSenderFaults: 3,
      retry: { baseDelayMs: 400, maxDelayMs: 400 },
    });
    const box = outbox();
    const poison = await database.transaction((trx) =>
      box.send(trx, 'payments/charge', { type: 'payment.charge', data: { note: 'x'.repeat(2000) } }),
    );
    await until(async () => ((await row(poison.id))?.attempts ?? 0) >= 1, 10_000);
    // Written after the poison failed once: these must not be handed over before it is settled.
    const later = await database.transaction(async (trx) => [
      (await box.send(trx, 'payments/charge', { type: 'payment.charge', data: { n: 1 } })).id,
      (await box.send(trx, 'payments/charge', { type: 'payment.charge', data: { n: 2 } })).id,
    ]);
    // Another destination is not held back.
    const other = await database.transaction((trx) =>
      box.publish(trx, 'events', { type: 'order.placed', data: { n: 3 } }),
    );

    await until(async () => (await row(poison.id))?.parked === true, 20_000);
    const received = await receiveAll(clients, commandQueue, 2, 10_000);
    expect(received.map((r) => r.id)).toEqual(later);
    expect((await receiveAll(clients, topicQueue, 1)).map((r) => r.id)).toEqual([other.id]);

    expect(await row(poison.id)).toMatchObject({ attempts: 3, sent: false, parked: true });
    expect((await row(poison.id))!.last_error).toMatch(/InvalidParameterValue: .*1024 bytes/);
    const withPoison = recorded.calls.flatMap((c, i) => (c.includes(poison.id) ? [i] : []));
    expect(withPoison).toHaveLength(3);
    // Retried alone for its queue (a row of another destination may share the call).
    for (const i of withPoison) expect(recorded.calls[i]!.filter((id) => later.includes(id))).toEqual([]);
    const firstLater = recorded.calls.findIndex((c) => c.includes(later[0]!));
    expect(firstLater).toBeGreaterThan(withPoison[2]!); // nothing later of its queue went before it settled
    expect(recorded.calls.findIndex((c) => c.includes(other.id))).toBeLessThan(withPoison[2]!);
    expect(started.stats()).toMatchObject({ deadLettered: 1 });

    // Listed with its reason; after the cause is fixed, a redrive delivers it.
    const report = await box.deadLetters();
    expect(report).toMatchObject({
      count: 1,
      samples: [
        {
          eventId: poison.id,
          type: 'payment.charge',
          destinationKind: 'queue',
          destination: 'payments/charge',
          attempts: 3,
        },
      ],
    });
    expect(report.samples[0]!.reason).toMatch(/1024 bytes/);
    expect(await box.pending()).toBe(0);
    await clients.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: commandQueue,
        Attributes: { MaximumMessageSize: '1048576' },
      }),
    );
    expect(await box.redrive()).toBe(1);
    expect((await receiveAll(clients, commandQueue, 1, 10_000)).map((r) => r.id)).toEqual([poison.id]);
    await until(async () => (await row(poison.id))?.sent === true, 10_000);
    expect(await box.deadLetters()).toEqual({ count: 0, samples: [] });
  }, 60_000);

  test('SQS unreachable and throttling: the row is retried until it is delivered, never parked', async () => {
    const { commandQueue, publish } = await destinations({ sqs: proxiedSqs });
    // Three refused connections, then three throttled calls: six failures, twice the parking threshold.
    let failures = 0;
    proxy.inject((call) => {
      if (call.action !== 'SendMessageBatch' || failures >= 6) return undefined;
      failures += 1;
      return failures <= 3 ? { kind: 'reset' } : { kind: 'error', status: 400, type: 'ThrottlingException' };
    });
    const started = relay(publish, { maxSenderFaults: 3, retry: { baseDelayMs: 20, maxDelayMs: 20 } });
    const box = outbox();
    const command = await database.transaction((trx) =>
      box.send(trx, 'payments/charge', { type: 'payment.charge', data: { amount: 1 } }),
    );
    expect((await receiveAll(clients, commandQueue, 1, 20_000)).map((r) => r.id)).toEqual([command.id]);
    await until(async () => (await row(command.id))?.sent === true, 10_000);
    expect(await row(command.id)).toMatchObject({ attempts: 6, parked: false });
    expect((await row(command.id))!.last_error).toMatch(/Throttling/);
    expect(started.stats()).toMatchObject({ deadLettered: 0, published: 1 });
  }, 60_000);

  test('an event that could never be delivered fails the producer’s transaction, naming what is wrong', async () => {
    const box = createOutbox({
      database,
      source: 'orders',
      checkDestination: (kind, destination) => {
        if (destination !== 'events') throw new Error(`Unknown ${kind} "${destination}"`);
      },
    });
    const attempt = (data: unknown, destination = 'events') =>
      database.transaction(async (trx) => {
        await trx
          .insertInto('orders')
          .values({ id: `o-${counter++}` })
          .execute();
        await box.publish(trx, destination, { type: 'order.placed', data });
      });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [unknown, RegExp][] = [
      [{ blob: 'x'.repeat(300_000) }, /too large.*data: the message is \d+ bytes .* at most 262144/],
      [{ amount: 10n }, /data\.amount: cannot be serialised to JSON/],
      [cyclic, /data\.self: cannot be serialised to JSON/],
      [{ note: 'a\u0000b' }, /data\.note: contains a NUL character \(U\+0000\)/],
      [{ lines: ['ok', 'a\ud800b'] }, /data\.lines\[1\]: .*surrogate without its pair/],
      [{ note: 'a\uffffb' }, /data: contains U\+FFFE or U\+FFFF, which SQS refuses/],
    ];
    for (const [data, message] of cases) {
      const error = await attempt(data).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(EventValidationError);
      expect((error as Error).message).toMatch(
        /^Cannot write to the outbox event order\.placed \(id [^)]+\)/,
      );
      expect((error as Error).message).toMatch(message);
    }
    await expect(attempt({ ok: true }, 'no-such-topic')).rejects.toThrow(/Unknown topic "no-such-topic"/);
    // Nothing of those transactions was kept.
    expect(await database.db.selectFrom('orders').selectAll().execute()).toEqual([]);
    expect(await box.pending()).toBe(0);
  });
});
