/**
 * The consumer under faults, on the fauxqs emulator through the real AWS SDK (with a proxy in front where a
 * slow SQS is needed): a hung handler, a stop with handlers still running, a heartbeat racing a release, a
 * dependency outage, poison messages, and a long poll in flight at stop.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { HealthRegistry } from '../src/health/index.js';
import { DependencyUnavailableError, type Consumer, type EventEnvelope } from '../src/messaging/index.js';
import { memoryLog } from './support/memory-log.js';
import {
  deferred,
  depth,
  makeQueue,
  receiveAll,
  sendEvent,
  startConsumer,
  until,
  type TestConsumerOptions,
  type TestQueue,
} from './support/messaging-queues.js';
import { emulatorClients, startMessagingStack, type MessagingStack } from './support/messaging-stack.js';
import { testSystem } from './support/messaging-system.js';
import { testMeter } from './support/metrics.js';
import { startSqsProxy, type SqsProxy } from './support/sqs-proxy.js';

let stack: MessagingStack;
let proxy: SqsProxy;
const consumers: Consumer[] = [];
/** Run at the end of each test, before its consumers stop (e.g. let a hung handler go). */
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  stack = await startMessagingStack(testSystem);
  proxy = await startSqsProxy(stack.endpoint);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  proxy.rule(() => undefined);
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  await proxy.close();
  await stack.stop();
});

function consume(q: TestQueue, options: TestConsumerOptions): Consumer {
  return startConsumer(stack.sqs, q, consumers, options);
}

/** The ChangeMessageVisibility calls the proxy saw for one receipt handle. */
function visibilityCalls(receiptHandle: string) {
  return proxy.calls.filter(
    (c) => c.action === 'ChangeMessageVisibility' && c.body.ReceiptHandle === receiptHandle,
  );
}

/** The receipt handle of the first ChangeMessageVisibility the proxy saw from call `from` on. */
function firstVisibilityReceipt(from: number): string {
  return String(
    proxy.calls.slice(from).find((c) => c.action === 'ChangeMessageVisibility')!.body.ReceiptHandle,
  );
}

describe('a handler past its deadline', () => {
  it('is aborted: its slot frees for the next message, its heartbeat stops, its message comes back after a backoff', async () => {
    const q = makeQueue(stack.server);
    const hung = deferred();
    cleanups.push(() => hung.resolve());
    const seen: { name: string; receiveCount: number }[] = [];
    const from = proxy.calls.length;
    let abortReason: unknown;
    const { sqs } = emulatorClients(proxy.endpoint);
    cleanups.push(() => sqs.destroy());
    consume(q, {
      sqs,
      concurrency: 1,
      visibilityTimeoutSeconds: 10,
      handlerTimeoutSeconds: 1,
      heartbeat: { intervalSeconds: 0.2 },
      backoff: { baseSeconds: 1, maxSeconds: 1 },
      handler: async (e, ctx) => {
        if (e.type !== 'job.run') return;
        seen.push({ name: e.data.name, receiveCount: ctx.receiveCount });
        if (e.data.name === 'hang' && ctx.receiveCount === 1) {
          ctx.signal.addEventListener('abort', () => (abortReason = ctx.signal.reason));
          await hung.promise; // ignores its signal: truly hung
        }
      },
    });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'hang' });
    await until(() => seen.length === 1);
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'next' });
    // concurrency 1: 'next' runs only because the hung handler's slot was freed at its deadline
    await until(() => seen.some((s) => s.name === 'next'), 10_000);
    await until(() => seen.some((s) => s.name === 'hang' && s.receiveCount === 2), 10_000);
    expect((abortReason as Error).name).toBe('HandlerTimeoutError');
    expect((abortReason as Error).message).toMatch(/ran past its deadline of 1 s/);

    // The first receipt got heartbeats (visibility 10) until the release (visibility 1, the backoff), none after.
    const firstReceipt = firstVisibilityReceipt(from);
    const calls = visibilityCalls(firstReceipt);
    const release = calls.findIndex((c) => c.body.VisibilityTimeout === 1);
    expect(release).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(visibilityCalls(firstReceipt).slice(release + 1)).toEqual([]);
  }, 30_000);
});

describe('stop()', () => {
  it('resolves only when every handler settled; meanwhile no other replica gets the message', async () => {
    const q = makeQueue(stack.server, { visibility: 1 });
    const gate = deferred();
    cleanups.push(() => gate.resolve());
    const started: string[] = [];
    const c = consume(q, {
      visibilityTimeoutSeconds: 1,
      heartbeat: { intervalSeconds: 0.3 },
      handlerTimeoutSeconds: 60,
      stopTimeoutMs: 200,
      handler: async (e) => {
        started.push(e.id);
        await gate.promise; // does not honour its signal
      },
    });
    const sent = await sendEvent(stack.sqs, q.url, 'job.run', { name: 'long' });
    await until(() => started.length === 1);
    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    // Another replica polls for 3 s (three visibility timeouts): the heartbeat still holds the message.
    const stolen = await receiveAll(stack.sqs, q.url, 1, 3000);
    expect(stolen).toEqual([]);
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    // The handler settled after its signal was aborted: its message is released at once, for another replica.
    const back = await receiveAll(stack.sqs, q.url, 1, 5000);
    expect(back.map((m) => (JSON.parse(m.Body!) as EventEnvelope).id)).toEqual([sent.id]);
  }, 30_000);

  it('handles what a long poll in flight brings after stop() began, instead of leaving it invisible', async () => {
    const q = makeQueue(stack.server);
    const handled: string[] = [];
    const c = consume(q, {
      waitTimeSeconds: 10,
      handler: (e) => void handled.push(e.id),
    });
    await new Promise((r) => setTimeout(r, 500)); // the long poll is waiting
    const stopping = c.stop();
    const sent = await sendEvent(stack.sqs, q.url, 'job.run', { name: 'late' });
    await stopping;
    expect(handled).toEqual([sent.id]);
    expect(await depth(stack.sqs, q.url)).toBe(0);
  }, 30_000);
});

describe('a heartbeat in flight when the message is released', () => {
  it('does not override the backoff: the release reaches SQS after it', async () => {
    const q = makeQueue(stack.server, { visibility: 30 });
    // Heartbeats (visibility 30) take 1.5 s through the proxy; releases (a 2-4 s backoff) pass at once.
    proxy.rule((action, body) =>
      action === 'ChangeMessageVisibility' && body.VisibilityTimeout === 30 ? { delayMs: 1500 } : undefined,
    );
    const { sqs } = emulatorClients(proxy.endpoint);
    cleanups.push(() => sqs.destroy());
    const attempts: { receiveCount: number; at: number }[] = [];
    const from = proxy.calls.length;
    consume(q, {
      sqs,
      visibilityTimeoutSeconds: 30,
      handlerTimeoutSeconds: 60,
      heartbeat: { intervalSeconds: 0.25 },
      backoff: { baseSeconds: 4, maxSeconds: 4 },
      handler: async (_e, ctx) => {
        attempts.push({ receiveCount: ctx.receiveCount, at: Date.now() });
        if (ctx.receiveCount > 1) return;
        await new Promise((r) => setTimeout(r, 400)); // a heartbeat is now on its way
        throw new Error('database busy');
      },
    });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'flaky' });
    // Back after the backoff (plus the heartbeat's 1.5 s), not after the 30 s the heartbeat asked for.
    await until(() => attempts.length === 2, 15_000);
    const first = visibilityCalls(firstVisibilityReceipt(from));
    const last = first[first.length - 1]!;
    expect([2, 3, 4]).toContain(last.body.VisibilityTimeout);
    expect(first.every((c) => c === last || (c.answeredAt ?? Infinity) <= last.at)).toBe(true);
  }, 30_000);
});

describe('a dependency outage', () => {
  it('dead-letters nothing: receiving pauses while the dependency is down and resumes after', async () => {
    // A redrive count of 3, as a one-minute policy would have: the old consumer dead-lettered within seconds.
    const q = makeQueue(stack.server, { maxReceiveCount: 3 });
    let down = true;
    let callsWhileDown = 0;
    const handled = new Map<string, number>();
    const health = new HealthRegistry();
    health.markStarted();
    const metrics = testMeter();
    const log = memoryLog();
    consume(q, {
      concurrency: 5,
      backoff: { baseSeconds: 1, maxSeconds: 2 },
      dependencies: {
        database: () => {
          if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        },
      },
      dependencyPause: { baseMs: 200, maxMs: 500 },
      health,
      meter: metrics.meter,
      log: pino({}, log),
      handler: (e) => {
        if (down) {
          callsWhileDown++;
          throw new DependencyUnavailableError('database', 'the database is down');
        }
        handled.set(e.id, (handled.get(e.id) ?? 0) + 1);
      },
    });
    const sent = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sendEvent(stack.sqs, q.url, 'job.run', { name: `m${i}` })),
    );
    await until(() => callsWhileDown > 0);
    await new Promise((r) => setTimeout(r, 8000));
    // Paused: at most the first batch failed; the consumer reports it without failing readiness.
    expect(callsWhileDown).toBeLessThanOrEqual(5);
    expect(await metrics.value('flotilla.consumer.paused')).toBe(1);
    const report = await health.readiness();
    expect(report.status).toBe('ok');
    expect(report.degraded).toEqual([expect.stringMatching(/^consumer q\d+$/)]);
    expect(Object.values(report.checks)[0]!.error).toMatch(
      /paused since .*: dependency database unavailable/,
    );

    down = false;
    await until(() => handled.size === 10, 20_000);
    expect([...handled.keys()].sort()).toEqual(sent.map((e) => e.id).sort());
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    expect(await depth(stack.sqs, q.dlqUrl)).toBe(0);
    expect(await metrics.value('flotilla.consumer.paused')).toBe(0);
    expect(log.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'dependency database unavailable: receiving paused until it is back',
        'receiving again, one message at a time until one is handled',
      ]),
    );
  }, 60_000);

  it('still sends poison to the dead-letter queue quickly: failing with the dependencies healthy', async () => {
    const q = makeQueue(stack.server, { maxReceiveCount: 10 });
    const counts: number[] = [];
    consume(q, {
      backoff: { baseSeconds: 1, maxSeconds: 1 },
      poisonReceiveCount: 3,
      dependencies: { database: () => undefined },
      handler: (_e, ctx) => {
        counts.push(ctx.receiveCount);
        throw new Error('cannot read property of undefined');
      },
    });
    const sent = await sendEvent(stack.sqs, q.url, 'job.run', { name: 'poison' });
    const dead = await receiveAll(stack.sqs, q.dlqUrl, 1, 15_000);
    expect(dead.map((m) => (JSON.parse(m.Body!) as EventEnvelope).id)).toEqual([sent.id]);
    expect(dead[0]!.MessageAttributes?.['failure-reason']?.StringValue).toBe(
      'failed 3 times with the dependencies healthy: cannot read property of undefined',
    );
    expect(counts).toEqual([1, 2, 3]);
    await until(async () => (await depth(stack.sqs, q.url)) === 0, 5000);
  }, 30_000);
});
