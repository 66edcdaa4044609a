/**
 * Every SQS/SNS call has a deadline that really aborts it: against an endpoint that accepts connections and
 * never answers, the service's clients (useAwsClients) fail a Publish within its deadline, naming the call,
 * and the consumer notices a hung receive or heartbeat (logged, counted) and goes on.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defineService, defineSystem, defineTopic, envFor, literalEnv } from '@flotilla/model';
import { pino } from 'pino';
import { createConsumer, createService, useAwsClients } from '../src/index.js';
import { hang, startPeer, type TestPeer } from './support/client-peer.js';
import { memoryLog } from './support/memory-log.js';
import {
  emulatorClients,
  emulatorEnvironment,
  startMessagingStack,
  type MessagingStack,
} from './support/messaging-stack.js';
import { depth, makeQueue, sendEvent, until } from './support/messaging-queues.js';
import { schemas, testSystem } from './support/messaging-system.js';
import { testMeter } from './support/metrics.js';
import { startSqsProxy, type SqsProxy } from './support/sqs-proxy.js';

const system = defineSystem({
  name: 'hung',
  topics: [defineTopic({ name: 'things', events: ['thing.made'] })],
  services: [
    defineService({ name: 'maker', port: 9201, publishes: ['things'], consumes: [{ queue: 'work' }] }),
  ],
});

/** The outcome of `work`, or 'pending' if it has not settled after `ms`. */
async function within(
  ms: number,
  work: Promise<unknown>,
): Promise<'resolved' | { rejected: string } | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(
        () => 'resolved' as const,
        (err: unknown) => ({ rejected: (err as Error).message }),
      ),
      new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('SQS/SNS calls against an endpoint that accepts and never answers', () => {
  let silent: TestPeer;
  beforeAll(async () => {
    silent = await startPeer(hang);
  });
  afterAll(async () => silent.close());

  function hungService() {
    const env: Record<string, string> = {
      ...literalEnv(envFor(system, 'maker', emulatorEnvironment(silent.url))),
      PORT: '0',
      OTEL_SDK_DISABLED: 'true',
    };
    const log = memoryLog();
    return {
      svc: createService({ name: 'maker', env, manageProcess: false, logDestination: log }),
      log,
      env,
    };
  }

  it('fails a Publish within its deadline with an error naming the call, and aborts each attempt', async () => {
    const { svc, env } = hungService();
    const { sns } = useAwsClients(svc, {
      deadlines: { deadlineMs: 1000, maxAttempts: 2 },
    });
    const before = silent.requests.length;
    const outcome = await within(
      15_000,
      sns.send(new PublishCommand({ TopicArn: env.TOPIC_THINGS_ARN, Message: '{}' })),
    );
    expect(outcome).toEqual({
      rejected: expect.stringMatching(
        /^SNS Publish did not complete within 1000 ms and was aborted: the endpoint did not answer in time/,
      ),
    });
    // Both attempts reached the endpoint and were aborted (their connections closed), not left hanging.
    expect(silent.requests.length - before).toBe(2);
    await silent.abortedAtLeast(2);
    sns.destroy();
  }, 30_000);

  it('notices a hung long poll: logged, counted, and the receive loop goes on', async () => {
    const { svc, env } = hungService();
    const { sqs } = useAwsClients(svc, { deadlines: { deadlineMs: 5000, maxAttempts: 1 } });
    const log = memoryLog();
    const metrics = testMeter();
    const consumer = createConsumer({
      queueUrl: env.CONSUME_WORK_QUEUE_URL!,
      schemas,
      handler: () => undefined,
      sqs,
      log: pino({}, log),
      waitTimeSeconds: 1,
      callTimeoutMs: 500,
      meter: metrics.meter,
    });
    consumer.start();
    const failures = () => log.lines.filter((l) => l.msg === 'ReceiveMessage failed; retrying');
    try {
      await until(() => failures().length >= 2, 15_000);
    } finally {
      await within(10_000, consumer.stop());
      sqs.destroy();
    }
    // A long poll's deadline is its wait (1 s) plus the call's (0.5 s), not the client's 5 s default.
    expect(String(failures()[0]!.err)).toMatch(
      /^SQS ReceiveMessage on hung-test-maker-work did not complete within 1500 ms/,
    );
    expect(await metrics.value('flotilla.consumer.receive.failures')).toBeGreaterThanOrEqual(2);
  }, 30_000);
});

describe('a heartbeat that hangs', () => {
  let stack: MessagingStack;
  let proxy: SqsProxy;
  beforeAll(async () => {
    stack = await startMessagingStack(testSystem);
    proxy = await startSqsProxy(stack.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await stack.stop();
  });

  it('is cut at its deadline, logged and counted; the next heartbeat and the message go on', async () => {
    const q = makeQueue(stack.server, { visibility: 5 });
    proxy.rule((action) => (action === 'ChangeMessageVisibility' ? 'hang' : undefined));
    const { sqs } = emulatorClients(proxy.endpoint);
    const log = memoryLog();
    const metrics = testMeter();
    const handled: string[] = [];
    const consumer = createConsumer({
      queueUrl: q.url,
      dlqUrl: q.dlqUrl,
      schemas,
      sqs,
      log: pino({}, log),
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 5,
      handlerTimeoutSeconds: 20,
      heartbeat: { intervalSeconds: 0.3 },
      callTimeoutMs: 400,
      meter: metrics.meter,
      handler: async (e) => {
        await new Promise((r) => setTimeout(r, 2500));
        handled.push(e.id);
      },
    });
    consumer.start();
    const sent = await sendEvent(stack.sqs, q.url, 'job.run', { name: 'long' });
    const heartbeatFailures = () =>
      log.lines.filter((l) => String(l.msg).startsWith('visibility heartbeat failed'));
    try {
      await until(() => handled.length === 1, 15_000);
      await until(async () => (await depth(stack.sqs, q.url)) === 0, 5000);
    } finally {
      await within(10_000, consumer.stop());
      sqs.destroy();
    }
    expect(handled).toEqual([sent.id]);
    expect(heartbeatFailures().length).toBeGreaterThanOrEqual(2);
    expect(String(heartbeatFailures()[0]!.err)).toMatch(
      /^SQS ChangeMessageVisibility did not complete within 400 ms/,
    );
    expect(await metrics.value('flotilla.consumer.heartbeat.failures')).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
