import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EMULATOR_ACCOUNT_ID, queueUrl, type QueueResource } from '@flotilla/model';
import { createPublisher, EventValidationError, type EventEnvelope } from '../src/messaging/index.js';
import { drainQueue } from './support/messaging-queues.js';
import {
  startMessagingEmulator,
  startMessagingStack,
  type MessagingStack,
} from './support/messaging-stack.js';
import { schemas, testSystem } from './support/messaging-system.js';

let stack: MessagingStack;
beforeAll(async () => {
  stack = await startMessagingStack(testSystem);
});
afterAll(async () => stack.stop());

function queue(service: string, key: string): QueueResource {
  const q = stack.resources.queues.find((r) => r.service === service && r.key === key);
  if (!q) throw new Error(`no queue ${service}/${key}`);
  return q;
}

const drain = (url: string) => drainQueue(stack.sqs, url);

function publisher(retry = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }) {
  const topic = stack.resources.topics[0]!;
  return createPublisher({
    source: 'billing',
    schemas,
    sqs: stack.sqs,
    sns: stack.sns,
    env: { TOPIC_ORDERS_ARN: topic.arn, SEND_WORKER_JOBS_QUEUE_URL: queue('worker', 'jobs').url },
    requestId: () => 'req-1',
    retry,
  });
}

// Publishing to topics and queues on fauxqs and moto: messaging-backends.test.ts. Here what is the kit's
// alone: validation before sending, serialisation, and retries across an outage of the endpoint.
describe('publish', () => {
  it('rejects an invalid event before sending, naming the field and the event type', async () => {
    const p = publisher();
    const bad = p.publish('orders', 'order.placed', { orderId: 'o-2', total: -1 });
    await expect(bad).rejects.toThrow(EventValidationError);
    await expect(bad).rejects.toThrow(/order\.placed.*data\.total/);
    await expect(p.publish('orders', 'order.placed', { orderId: 7 } as never)).rejects.toThrow(
      /data\.orderId/,
    );
    expect(await drain(queue('audit', 'orders').url)).toHaveLength(0);
  });

  it('settles every pending publish when an event cannot be serialised: that one fails clearly, the rest go', async () => {
    // z.custom passes any value, as a schema of `unknown` data would: only JSON can tell a BigInt or a cycle.
    const { z } = await import('zod');
    const topic = stack.resources.topics[0]!;
    const p = createPublisher({
      source: 'billing',
      schemas: { ...schemas, 'order.placed': z.object({ orderId: z.string(), total: z.custom<unknown>() }) },
      sqs: stack.sqs,
      sns: stack.sns,
      env: { TOPIC_ORDERS_ARN: topic.arn },
    });
    const cyclic: Record<string, unknown> = { orderId: 'o-c' };
    cyclic.total = cyclic;
    // Concurrent publishes to one topic share a batch: a bad one must not hold the others or crash.
    const settled = await Promise.race([
      Promise.allSettled([
        p.publish('orders', 'order.placed', { orderId: 'o-bigint', total: 10n }),
        p.publish('orders', 'order.paid', { orderId: 'o-fine' }),
        p.publish('orders', 'order.placed', cyclic as never),
      ]),
      new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 10_000).unref()),
    ]);
    expect(settled).not.toBe('pending');
    const [bigint, fine, cycle] = settled as PromiseSettledResult<EventEnvelope>[];
    expect(fine!.status).toBe('fulfilled');
    expect(bigint!.status).toBe('rejected');
    const bigintError = (bigint as PromiseRejectedResult).reason as Error;
    expect(bigintError).toBeInstanceOf(EventValidationError);
    expect(bigintError.message).toMatch(
      /Cannot publish event order\.placed .*data\.total: cannot be serialised to JSON/,
    );
    expect(cycle!.status).toBe('rejected');
    expect((cycle as PromiseRejectedResult).reason).toBeInstanceOf(EventValidationError);
    expect(((cycle as PromiseRejectedResult).reason as Error).message).toMatch(
      /data\.total\.total: cannot be serialised/,
    );
    const got = await drain(queue('shipping', 'orders').url);
    expect(got.map((m) => (JSON.parse(m.Body!) as EventEnvelope<{ orderId: string }>).data.orderId)).toEqual([
      'o-fine',
    ]);
    await drain(queue('audit', 'orders').url);
  });

  it('retries a call that failed for a transient reason (emulator down) until it succeeds', async () => {
    // A port where nothing listens yet: the first attempts are refused. The emulator starts there a
    // little later; deliver() kept the entry, retried with backoff and delivers it. Nothing is dropped.
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    // The SDK's own retries are off, so only the publisher's retries can bridge the outage.
    const config = {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    };
    const sqs = new SQSClient(config);
    const sns = new SNSClient(config);
    const url = queueUrl(
      { aws: { region: 'us-east-1', accountId: EMULATOR_ACCOUNT_ID }, messagingEndpoint: config.endpoint },
      'late',
    );
    const p = createPublisher({
      source: 'billing',
      schemas,
      sqs,
      sns,
      retry: { attempts: 10, baseDelayMs: 50, maxDelayMs: 200 },
    });
    const sending = p.send(url, 'job.run', { name: 'late' });
    const late = await new Promise<Awaited<ReturnType<typeof startMessagingEmulator>>>((resolve, reject) =>
      setTimeout(() => startMessagingEmulator({ port }).then(resolve, reject), 150),
    );
    try {
      late.server.createQueue('late');
      const sent = await sending;
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      expect(got.Messages?.map((m) => (JSON.parse(m.Body!) as EventEnvelope).id)).toEqual([sent.id]);
    } finally {
      sqs.destroy();
      sns.destroy();
      await late.server.stop();
    }
  });
});
