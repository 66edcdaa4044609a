import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EMULATOR_ACCOUNT_ID, queueUrl, type QueueResource } from '@flotilla/model';
import {
  createPublisher,
  EventValidationError,
  PublishError,
  type EventEnvelope,
} from '../src/messaging/index.js';
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

async function drain(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    if (!r.Messages?.length) return out;
    out.push(...r.Messages);
  }
}

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

describe('publish', () => {
  it('fans a topic out to every subscribed queue, honouring type filters, with the envelope as raw body', async () => {
    const p = publisher();
    const placed = await p.publish('orders', 'order.placed', { orderId: 'o-1', total: 12.5 });
    const paid = await p.publish('orders', 'order.paid', { orderId: 'o-1' });

    const audit = await drain(queue('audit', 'orders').url);
    const shipping = await drain(queue('shipping', 'orders').url);
    expect(audit.map((m) => (JSON.parse(m.Body!) as EventEnvelope).id).sort()).toEqual(
      [placed.id, paid.id].sort(),
    );
    // shipping subscribes to order.paid only
    expect(shipping).toHaveLength(1);
    const body = JSON.parse(shipping[0]!.Body!) as EventEnvelope;
    expect(body).toEqual({
      id: paid.id,
      type: 'order.paid',
      source: 'billing',
      time: paid.time,
      data: { orderId: 'o-1' },
    });
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const attrs = shipping[0]!.MessageAttributes!;
    expect(attrs.type?.StringValue).toBe('order.paid');
    expect(attrs['x-request-id']?.StringValue).toBe('req-1');
    expect(Object.keys(attrs).length).toBeLessThanOrEqual(10);
  });

  it('sends commands to a queue by service/queue target, batching concurrent sends', async () => {
    const p = publisher();
    const sent = await Promise.all(
      Array.from({ length: 25 }, (_, i) => p.send('worker/jobs', 'job.run', { name: `j${i}` })),
    );
    const got = await drain(queue('worker', 'jobs').url);
    expect(got.map((m) => (JSON.parse(m.Body!) as EventEnvelope).id).sort()).toEqual(
      sent.map((e) => e.id).sort(),
    );
    // the schema's default was applied before the event left
    expect((JSON.parse(got[0]!.Body!) as EventEnvelope<{ ms: number }>).data.ms).toBe(0);
  });

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

  it('reports the one entry SQS rejects in a batch and delivers the rest', async () => {
    const p = publisher();
    // U+FFFF is valid JSON but not a character SQS accepts: the emulator fails that entry only.
    const result = await p.publishBatch([
      { queue: 'worker/jobs', type: 'job.run', data: { name: 'a' } },
      { queue: 'worker/jobs', type: 'job.run', data: { name: 'bad\uffff' } },
      { queue: 'worker/jobs', type: 'job.run', data: { name: 'c' } },
      { topic: 'orders', type: 'order.paid', data: { orderId: 'o-3' } },
    ]);
    const [a, bad, c, paid] = result.envelopes;
    expect(result.succeeded.slice().sort()).toEqual([a!.id, c!.id, paid!.id].sort());
    expect(result.failed).toEqual([
      expect.objectContaining({
        id: bad!.id,
        code: 'InvalidMessageContents',
        senderFault: true,
        attempts: 1,
        destination: queue('worker', 'jobs').url,
      }),
    ]);
    const got = await drain(queue('worker', 'jobs').url);
    expect(got.map((m) => (JSON.parse(m.Body!) as EventEnvelope).id).sort()).toEqual([a!.id, c!.id].sort());
    await drain(queue('audit', 'orders').url);
    await drain(queue('shipping', 'orders').url);
  });

  it('rejects publish with a PublishError when the entry cannot be delivered, while its batch-mates succeed', async () => {
    const p = publisher();
    const big = 'x'.repeat(300_000); // over SNS's 256 KiB message limit
    const [ok, tooBig] = await Promise.allSettled([
      p.publish('orders', 'order.paid', { orderId: 'o-4' }),
      p.publish('orders', 'order.paid', { orderId: big }),
    ]);
    expect(ok.status).toBe('fulfilled');
    expect(tooBig.status).toBe('rejected');
    const err = (tooBig as PromiseRejectedResult).reason as PublishError;
    expect(err).toBeInstanceOf(PublishError);
    expect(err.message).toMatch(/order\.paid.*msg-test-orders/);
    expect(await drain(queue('shipping', 'orders').url)).toHaveLength(1);
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
