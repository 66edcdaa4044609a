/** Ad-hoc queues (each with a DLQ and redrive policy) and small helpers for the consumer tests. */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { FauxqsServer } from 'fauxqs';
import { pino } from 'pino';
import {
  createConsumer,
  uuidv7,
  type Consumer,
  type ConsumerOptions,
  type EventEnvelope,
} from '../../src/messaging/index.js';
import { schemas } from './messaging-system.js';

let counter = 0;

export interface TestQueue {
  readonly url: string;
  readonly dlqUrl: string;
}

export function makeQueue(
  server: FauxqsServer,
  options: { maxReceiveCount?: number; visibility?: number } = {},
): TestQueue {
  const name = `q${++counter}`;
  const dlq = server.createQueue(`${name}-dlq`);
  const q = server.createQueue(name, {
    attributes: {
      VisibilityTimeout: String(options.visibility ?? 30),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.queueArn,
        maxReceiveCount: options.maxReceiveCount ?? 5,
      }),
    },
  });
  return { url: q.queueUrl, dlqUrl: dlq.queueUrl };
}

/**
 * A queue and its DLQ (redrive policy with `maxReceiveCount`) created through the SQS API, so it works on
 * any backend; {@link makeQueue} is the same on fauxqs's server object, for the fauxqs-only tests.
 */
export async function createTestQueue(
  sqs: SQSClient,
  options: { maxReceiveCount?: number; visibility?: number } = {},
): Promise<TestQueue> {
  const name = `q${++counter}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibility ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn.Attributes!.QueueArn,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  return { url: q.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

export function envelope(type: string, data: unknown): EventEnvelope {
  return { id: uuidv7(), type, source: 'test', time: new Date().toISOString(), data };
}

export async function sendRaw(sqs: SQSClient, url: string, body: string, type = 'job.run'): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: body,
      MessageAttributes: { type: { DataType: 'String', StringValue: type } },
    }),
  );
}

export async function sendEvent(
  sqs: SQSClient,
  url: string,
  type: string,
  data: unknown,
): Promise<EventEnvelope> {
  const e = envelope(type, data);
  await sendRaw(sqs, url, JSON.stringify(e), type);
  return e;
}

/** Visible + in flight + delayed messages of a queue. */
export async function depth(sqs: SQSClient, url: string): Promise<number> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  const a = r.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages) +
    Number(a.ApproximateNumberOfMessagesNotVisible) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Receives until `count` messages arrived or `timeoutMs` passed (the messages stay invisible for 30 s). */
export async function receiveAll(
  sqs: SQSClient,
  url: string,
  count: number,
  timeoutMs = 5000,
): Promise<Message[]> {
  const out: Message[] = [];
  const end = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < end) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    out.push(...(r.Messages ?? []));
  }
  return out;
}

/** Deletes received messages (tests share queues: what one test read must not reach the next). */
export async function deleteMessages(
  sqs: SQSClient,
  url: string,
  messages: readonly Message[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages
          .slice(i, i + 10)
          .map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/** {@link receiveAll}, then deletes what arrived. */
export async function takeMessages(
  sqs: SQSClient,
  url: string,
  count: number,
  timeoutMs?: number,
): Promise<Message[]> {
  const got = await receiveAll(sqs, url, count, timeoutMs);
  await deleteMessages(sqs, url, got);
  return got;
}

/** Everything visible in `url` now (short polls until one comes back empty), deleted. */
export async function drainQueue(sqs: SQSClient, url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    if (!r.Messages?.length) return out;
    await deleteMessages(sqs, url, r.Messages);
    out.push(...r.Messages);
  }
}

export const silentLog = pino({ level: 'silent' });

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls `check` every 10 ms until it holds; throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Options of a test consumer: the handler, and whatever a test changes. */
export type TestConsumerOptions = Partial<ConsumerOptions<typeof schemas>> &
  Pick<ConsumerOptions<typeof schemas>, 'handler'>;

/**
 * Starts a consumer of `q` (and its DLQ) through `sqs`, silent and with 1 s polls unless `options` say
 * otherwise, and adds it to `started`, which the test stops after each test.
 */
export function startConsumer(
  sqs: SQSClient,
  q: TestQueue,
  started: Consumer[],
  options: TestConsumerOptions,
): Consumer {
  const c = createConsumer({
    queueUrl: q.url,
    dlqUrl: q.dlqUrl,
    schemas,
    sqs,
    log: silentLog,
    waitTimeSeconds: 1,
    ...options,
  });
  started.push(c);
  c.start();
  return c;
}
