/**
 * The kit's messaging against two independent implementations of SQS and SNS: fauxqs and moto's server.
 * Each test asserts what AWS documents (linked where it matters); where an emulator differs from AWS, the
 * test is declared with {@link awsBehaviour} naming that emulator and why, so jest expects it to fail
 * there (and reports it when the emulator is fixed) instead of silently skipping it.
 */
import { DeleteMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { EMULATOR_CREDENTIALS, type QueueResource } from '@flotilla/model';
import { sql } from 'kysely';
import { openDatabase, type Database, type Migration } from '../src/database/index.js';
import {
  createPublisher,
  listDeadLetters,
  NonRetryableError,
  PublishError,
  redrive,
  type Consumer,
  type EventEnvelope,
} from '../src/messaging/index.js';
import { createOutbox, startOutboxRelay, type OutboxRelay } from '../src/outbox/index.js';
import { startAwsFaultProxy } from './support/aws-fault-proxy.js';
import { pgliteTestEngine } from './support/db-engines.js';
import { receiveAll as receiveEvents, snsSqsPublish } from './support/db-outbox-publisher.js';
import {
  createTestQueue,
  depth,
  drainQueue,
  envelope,
  receiveAll,
  sendEvent,
  sendRaw,
  silentLog,
  startConsumer,
  takeMessages,
  until,
  type TestConsumerOptions,
  type TestQueue,
} from './support/messaging-queues.js';
import { describeEachBackend } from './support/moto-tier.js';
import {
  startMessagingStackOn,
  type BackendMessagingStack,
  type MessagingBackendKind,
} from './support/messaging-stack.js';
import { schemas, testSystem } from './support/messaging-system.js';

/**
 * A test of AWS's documented behaviour that an emulator does not reproduce: on `deviates`'s emulators it
 * is declared `test.failing` with the reason in its title, so it still runs and is reported if it starts
 * passing. Everywhere else it is an ordinary test.
 */
function awsBehaviour(
  kind: MessagingBackendKind,
  title: string,
  deviates: Partial<Record<MessagingBackendKind, string>>,
  fn: () => Promise<void>,
  timeout?: number,
): void {
  const reason = deviates[kind];
  if (reason) test.failing(`${title} (${kind} deviates from AWS: ${reason})`, fn, timeout);
  else test(title, fn, timeout);
}

describeEachBackend('messaging', (kind) => {
  let stack: BackendMessagingStack;
  const consumers: Consumer[] = [];
  beforeAll(async () => {
    stack = await startMessagingStackOn(kind, testSystem);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    // The model's queues are shared by the tests: leave them empty for the next one.
    for (const q of stack.resources.queues) for (const url of [q.url, q.dlq.url]) await drain(url);
  });
  afterAll(() => stack?.stop());

  const queue = (service: string, key: string): QueueResource => {
    const q = stack.resources.queues.find((r) => r.service === service && r.key === key);
    if (!q) throw new Error(`no queue ${service}/${key}`);
    return q;
  };
  const take = (url: string, count: number, timeoutMs?: number) =>
    takeMessages(stack.sqs, url, count, timeoutMs);
  const drain = (url: string) => drainQueue(stack.sqs, url);
  const ids = (messages: readonly Message[]) =>
    messages.map((m) => (JSON.parse(m.Body!) as EventEnvelope).id).sort();
  const publisher = () =>
    createPublisher({
      source: 'billing',
      schemas,
      sqs: stack.sqs,
      sns: stack.sns,
      env: {
        TOPIC_ORDERS_ARN: stack.resources.topics[0]!.arn,
        SEND_WORKER_JOBS_QUEUE_URL: queue('worker', 'jobs').url,
      },
      requestId: () => 'req-1',
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    });
  const consume = (q: TestQueue, options: TestConsumerOptions): Consumer =>
    startConsumer(stack.sqs, q, consumers, options);

  // SNS filter policies on message attributes: https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html
  // Raw message delivery: https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html
  test('publish fans a topic out to every subscribed queue, filtered by event type, the envelope as raw body', async () => {
    const p = publisher();
    const placed = await p.publish('orders', 'order.placed', { orderId: 'o-1', total: 12.5 });
    const paid = await p.publish('orders', 'order.paid', { orderId: 'o-1' });
    const audit = await take(queue('audit', 'orders').url, 2);
    const shipping = await take(queue('shipping', 'orders').url, 1);
    expect(ids(audit)).toEqual([placed.id, paid.id].sort());
    // shipping's subscription filters on type = order.paid: order.placed never reaches it
    expect(ids(shipping)).toEqual([paid.id]);
    expect(await drain(queue('shipping', 'orders').url)).toEqual([]);
    expect(JSON.parse(shipping[0]!.Body!)).toEqual({
      id: paid.id,
      type: 'order.paid',
      source: 'billing',
      time: paid.time,
      data: { orderId: 'o-1' },
    });
    expect(paid.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/); // UUIDv7
    const attributes = shipping[0]!.MessageAttributes!;
    expect(attributes.type?.StringValue).toBe('order.paid');
    expect(attributes['x-request-id']?.StringValue).toBe('req-1');
    expect(Object.keys(attributes).length).toBeLessThanOrEqual(10);
  });

  test('send batches concurrent commands to a queue and delivers each once', async () => {
    const p = publisher();
    const sent = await Promise.all(
      Array.from({ length: 25 }, (_, i) => p.send('worker/jobs', 'job.run', { name: `j${i}` })),
    );
    const got = await take(queue('worker', 'jobs').url, 25);
    expect(ids(got)).toEqual(sent.map((e) => e.id).sort());
    expect(await drain(queue('worker', 'jobs').url)).toEqual([]);
    // the schema's default was applied before the event left
    expect((JSON.parse(got[0]!.Body!) as EventEnvelope<{ ms: number }>).data.ms).toBe(0);
  });

  // SQS accepts only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a message; a batch
  // entry outside that set fails alone (InvalidMessageContents), the others are sent.
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
  awsBehaviour(
    kind,
    'publishBatch reports the one entry SQS rejects and delivers the rest',
    {
      moto: 'moto 5.2.5 accepts U+FFFF in a message body and sends the entry',
    },
    async () => {
      const result = await publisher().publishBatch([
        { queue: 'worker/jobs', type: 'job.run', data: { name: 'a' } },
        { queue: 'worker/jobs', type: 'job.run', data: { name: 'bad\uffff' } },
        { queue: 'worker/jobs', type: 'job.run', data: { name: 'c' } },
        { topic: 'orders', type: 'order.paid', data: { orderId: 'o-3' } },
      ]);
      const [a, bad, c, paid] = result.envelopes;
      expect([...result.succeeded].sort()).toEqual([a!.id, c!.id, paid!.id].sort());
      expect(result.failed).toEqual([
        expect.objectContaining({
          id: bad!.id,
          code: 'InvalidMessageContents',
          senderFault: true,
          attempts: 1,
          destination: queue('worker', 'jobs').url,
        }),
      ]);
      const got = await take(queue('worker', 'jobs').url, 2);
      expect(ids(got)).toEqual([a!.id, c!.id].sort());
      await drain(queue('audit', 'orders').url);
      await drain(queue('shipping', 'orders').url);
    },
  );

  // SNS messages are at most 256 KiB, and so is a PublishBatch request in total (BatchRequestTooLong):
  // https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html
  test('an event over SNS 256 KiB is refused while its batch-mates are delivered', async () => {
    const p = publisher();
    const [ok, tooBig] = await Promise.allSettled([
      p.publish('orders', 'order.paid', { orderId: 'o-4' }),
      p.publish('orders', 'order.paid', { orderId: 'x'.repeat(300_000) }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(tooBig.status).toBe('rejected');
    const err = (tooBig as PromiseRejectedResult).reason as PublishError;
    expect(err).toBeInstanceOf(PublishError);
    expect(err.message).toMatch(/order\.paid.*msg-test-orders/);
    const shipping = await take(queue('shipping', 'orders').url, 1);
    expect(ids(shipping)).toEqual([(ok as PromiseFulfilledResult<EventEnvelope>).value.id]);
    expect(await drain(queue('shipping', 'orders').url)).toEqual([]);
    await drain(queue('audit', 'orders').url);
  });

  // "Each message can have up to 10 attributes":
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
  // Neither emulator enforces it, so the kit keeps its own count (MAX_MESSAGE_ATTRIBUTES, withAttributes).
  awsBehaviour(
    kind,
    'SQS refuses a message with more than 10 message attributes',
    {
      fauxqs: 'fauxqs 2.4 accepts 11 attributes',
      moto: 'moto 5.2.5 accepts 11 attributes',
    },
    async () => {
      const q = await createTestQueue(stack.sqs);
      const attributes = Object.fromEntries(
        Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'x' }]),
      );
      await expect(
        stack.sqs.send(
          new SendMessageCommand({ QueueUrl: q.url, MessageBody: '{}', MessageAttributes: attributes }),
        ),
      ).rejects.toThrow();
    },
  );

  // A receipt handle SQS did not issue: DeleteMessage fails with ReceiptHandleIsInvalid (the deleter then
  // reports the message as not deleted). https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html
  // and https://repost.aws/knowledge-center/sqs-receipt-handle-error
  awsBehaviour(
    kind,
    'DeleteMessage with a receipt handle SQS never issued fails with ReceiptHandleIsInvalid',
    { fauxqs: 'fauxqs 2.4 answers success and deletes nothing' },
    async () => {
      const q = await createTestQueue(stack.sqs);
      await expect(
        stack.sqs.send(new DeleteMessageCommand({ QueueUrl: q.url, ReceiptHandle: 'not-a-receipt-handle' })),
      ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
    },
  );

  // ChangeMessageVisibility keeps a message hidden while its handler runs:
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
  test('a heartbeat keeps a message of a long handler invisible: it is delivered once', async () => {
    const q = await createTestQueue(stack.sqs, { visibility: 1 });
    const calls: number[] = [];
    consume(q, {
      visibilityTimeoutSeconds: 1,
      handlerTimeoutSeconds: 10, // the handler deadline defaults to the visibility timeout
      heartbeat: { intervalSeconds: 0.4 },
      handler: async (_e, ctx) => {
        calls.push(ctx.receiveCount);
        await new Promise((r) => setTimeout(r, 3000));
      },
    });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'long' });
    await until(() => calls.length === 1);
    await until(async () => (await depth(stack.sqs, q.url)) === 0, 10_000);
    expect(calls).toEqual([1]);
  });

  test('a consumer deletes what it handled and retries a failure after its backoff', async () => {
    const q = await createTestQueue(stack.sqs);
    const seen: { name: string; count: number }[] = [];
    consume(q, {
      backoff: { baseSeconds: 1, maxSeconds: 1 },
      handler: (e, ctx) => {
        if (e.type !== 'job.run') return;
        seen.push({ name: e.data.name, count: ctx.receiveCount });
        if (e.data.name === 'flaky' && ctx.receiveCount === 1) throw new Error('database busy');
      },
    });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'fine' });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'flaky' });
    await until(() => seen.some((s) => s.name === 'flaky' && s.count === 2), 15_000);
    expect(seen.filter((s) => s.name === 'fine')).toEqual([{ name: 'fine', count: 1 }]);
    await until(async () => (await depth(stack.sqs, q.url)) === 0, 10_000);
  });

  // The redrive policy moves a message to the DLQ once its ReceiveCount exceeds maxReceiveCount:
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
  test('a message that always fails reaches the dead-letter queue after maxReceiveCount deliveries', async () => {
    const q = await createTestQueue(stack.sqs, { maxReceiveCount: 3 });
    const counts: number[] = [];
    consume(q, {
      backoff: { baseSeconds: 0, maxSeconds: 0 },
      handler: (_e, ctx) => {
        counts.push(ctx.receiveCount);
        throw new Error('always broken');
      },
    });
    const sent = await sendEvent(stack.sqs, q.url, 'job.run', { name: 'poison' });
    const dead = await receiveAll(stack.sqs, q.dlqUrl, 1, 15_000);
    expect(ids(dead)).toEqual([sent.id]);
    expect(counts).toEqual([1, 2, 3]);
    expect(await depth(stack.sqs, q.url)).toBe(0);
  });

  test('invalid and non-retryable messages go to the dead-letter queue at once, with the reason', async () => {
    const q = await createTestQueue(stack.sqs);
    consume(q, {
      handler: (e) => {
        if (e.type === 'order.paid') throw new NonRetryableError('order o-9 does not exist');
      },
    });
    await sendRaw(stack.sqs, q.url, 'not json at all');
    await sendEvent(stack.sqs, q.url, 'order.paid', { orderId: 'o-9' });
    const dead = await receiveAll(stack.sqs, q.dlqUrl, 2, 10_000);
    const reasons = dead.map((m) => m.MessageAttributes?.['failure-reason']?.StringValue ?? '').sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^invalid-message: .*body is not JSON/),
      expect.stringMatching(/^non-retryable: order o-9 does not exist/),
    ]);
    expect(dead.every((m) => Number(m.Attributes?.ApproximateReceiveCount ?? 1) === 1)).toBe(true);
    await until(async () => (await depth(stack.sqs, q.url)) === 0, 10_000);
  });

  test('listDeadLetters shows depth and samples; redrive moves them back with their attributes', async () => {
    const q = queue('audit', 'orders');
    const events = [1, 2, 3].map((i) => envelope('order.paid', { orderId: `o-${i}` }));
    for (const e of events) {
      await stack.sqs.send(
        new SendMessageCommand({
          QueueUrl: q.dlq.url,
          MessageBody: JSON.stringify(e),
          MessageAttributes: {
            type: { DataType: 'String', StringValue: 'order.paid' },
            'failure-reason': { DataType: 'String', StringValue: 'non-retryable: test' },
          },
        }),
      );
    }
    const [report] = await listDeadLetters([q], { sqs: stack.sqs, sampleSize: 5 });
    expect(report!.depth).toBe(3);
    expect(report!.samples.map((s) => s.eventId).sort()).toEqual(events.map((e) => e.id).sort());
    expect(report!.samples[0]!.reason).toBe('non-retryable: test');
    // peeking left them in the DLQ, visible again
    expect((await listDeadLetters([q], { sqs: stack.sqs }))[0]!.depth).toBe(3);

    expect(await redrive({ sqs: stack.sqs, dlqUrl: q.dlq.url, sourceQueueUrl: q.url, max: 2 })).toEqual({
      moved: 2,
      failed: 0,
      notDeleted: 0,
    });
    const back = await take(q.url, 2, 5000);
    expect(back).toHaveLength(2);
    for (const m of back) {
      expect(events.map((e) => e.id)).toContain((JSON.parse(m.Body!) as EventEnvelope).id);
      expect(m.MessageAttributes?.type?.StringValue).toBe('order.paid');
      expect(m.MessageAttributes?.['failure-reason']).toBeUndefined();
    }
    expect(await depth(stack.sqs, q.dlq.url)).toBe(1);
    await redrive({ sqs: stack.sqs, dlqUrl: q.dlq.url, sourceQueueUrl: q.url });
    await until(async () => (await depth(stack.sqs, q.dlq.url)) === 0);
    await drain(q.url);
  });

  // SendMessageBatch: at most 10 entries and, summed over the entries, at most 1 MiB (1,048,576 bytes):
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
  test('redrive splits a receive whose messages together exceed the batch limit, and moves them all', async () => {
    const q = await createTestQueue(stack.sqs);
    // Ten messages of 200 KB: each fits a queue (1 MiB), together they are twice a batch's 1 MiB.
    const events = Array.from({ length: 10 }, (_, i) =>
      envelope('job.run', { name: `big-${i}`, pad: 'x'.repeat(200_000) }),
    );
    for (const e of events)
      await stack.sqs.send(new SendMessageCommand({ QueueUrl: q.dlqUrl, MessageBody: JSON.stringify(e) }));
    const result = await redrive({ sqs: stack.sqs, dlqUrl: q.dlqUrl, sourceQueueUrl: q.url });
    expect(result).toEqual({ moved: 10, failed: 0, notDeleted: 0 });
    expect(ids(await take(q.url, 10, 10_000))).toEqual(events.map((e) => e.id).sort());
    expect(await depth(stack.sqs, q.dlqUrl)).toBe(0);
  }, 60_000);

  test('redrive does not count as moved what it failed to delete from the DLQ', async () => {
    const q = await createTestQueue(stack.sqs);
    const events = [1, 2, 3].map((i) => envelope('job.run', { name: `d-${i}` }));
    for (const e of events)
      await stack.sqs.send(new SendMessageCommand({ QueueUrl: q.dlqUrl, MessageBody: JSON.stringify(e) }));
    // Every DeleteMessageBatch entry fails (as when a receipt handle expired): the copies reach the source
    // queue, the originals stay in the DLQ.
    const proxy = await startAwsFaultProxy(stack.endpoint);
    proxy.inject((call) =>
      call.action === 'DeleteMessageBatch'
        ? {
            kind: 'answer',
            body: {
              Successful: [],
              Failed: (call.body.Entries as { Id: string }[]).map((e) => ({
                Id: e.Id,
                Code: 'ReceiptHandleIsInvalid',
                Message: 'injected',
                SenderFault: true,
              })),
            },
          }
        : undefined,
    );
    const sqs = new SQSClient({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: EMULATOR_CREDENTIALS,
    });
    try {
      const result = await redrive({ sqs, dlqUrl: q.dlqUrl, sourceQueueUrl: q.url });
      expect(result).toEqual({ moved: 0, failed: 0, notDeleted: 3 });
    } finally {
      sqs.destroy();
      await proxy.close();
    }
    expect(ids(await take(q.url, 3, 10_000))).toEqual(events.map((e) => e.id).sort());
    await until(async () => (await depth(stack.sqs, q.dlqUrl)) === 3, 10_000);
  });

  describeOutbox(() => stack);
});

interface OrdersDB {
  orders: { id: string; total: number };
}
const MIGRATIONS: Migration[] = [
  { version: 1, name: 'orders', up: 'create table orders (id text primary key, total int not null)' },
];

/** The outbox relay publishing through SNS (filtered fan-out) and to an SQS queue on the backend. */
function describeOutbox(current: () => BackendMessagingStack): void {
  const engine = pgliteTestEngine();
  let database: Database<OrdersDB>;
  let relay: OutboxRelay | undefined;
  beforeAll(async () => {
    database = await openDatabase<OrdersDB>({
      ...(await engine.fresh()),
      migrations: MIGRATIONS,
      log: silentLog,
    });
  }, 30_000);
  afterAll(async () => {
    await relay?.stop();
    await database?.close();
  });

  test('the outbox relay publishes committed events through SNS and commands to SQS, with trace context', async () => {
    const stack = current();
    const byKey = (service: string) => stack.resources.queues.find((q) => q.service === service)!;
    const publish = snsSqsPublish(stack, {
      topics: { orders: stack.resources.topics[0]!.arn },
      queues: { 'worker/jobs': byKey('worker').url },
    });
    relay = startOutboxRelay({ database, publish, log: silentLog, intervalMs: 60_000 });
    const outbox = createOutbox({ database, source: 'billing' });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const [placed, paid, job] = await database.transaction(async (trx) => {
      await trx.insertInto('orders').values({ id: 'o-1', total: 30 }).execute();
      return [
        await outbox.publish(trx, 'orders', { type: 'order.placed', data: { orderId: 'o-1', total: 30 } }),
        await outbox.publish(trx, 'orders', { type: 'order.paid', data: { orderId: 'o-1' }, traceparent }),
        await outbox.send(trx, 'worker/jobs', { type: 'job.run', data: { name: 'ship' }, traceparent }),
      ];
    });
    await database
      .transaction(async (trx) => {
        await outbox.publish(trx, 'orders', { type: 'order.paid', data: { orderId: 'rolled-back' } });
        throw new Error('payment declined');
      })
      .catch(() => undefined);

    const audit = await receiveEvents(stack, byKey('audit').url, 2);
    expect(audit.map((e) => e.id).sort()).toEqual([placed!.id, paid!.id].sort());
    expect(await receiveEvents(stack, byKey('shipping').url, 1)).toEqual([
      { id: paid!.id, type: 'order.paid', traceparent },
    ]);
    expect(await receiveEvents(stack, byKey('worker').url, 1)).toEqual([
      { id: job!.id, type: 'job.run', traceparent },
    ]);
    await until(async () => (await outbox.pending()) === 0, 10_000);
    await sql`delete from flotilla_outbox`.execute(database.db);
  });
}
