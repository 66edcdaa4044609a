import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { NonRetryableError, type Consumer, type EventEnvelope } from '../src/messaging/index.js';
import { startMessagingStack, type MessagingStack } from './support/messaging-stack.js';
import { testSystem } from './support/messaging-system.js';
import {
  deferred,
  depth,
  makeQueue,
  receiveAll,
  sendEvent,
  sendRaw,
  startConsumer,
  until,
  type TestConsumerOptions,
  type TestQueue,
} from './support/messaging-queues.js';

let stack: MessagingStack;
const consumers: Consumer[] = [];
beforeAll(async () => {
  stack = await startMessagingStack(testSystem);
});
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});
afterAll(async () => stack.stop());

function consume(q: TestQueue, options: TestConsumerOptions): Consumer {
  return startConsumer(stack.sqs, q, consumers, options);
}

describe('consumer', () => {
  it('lets a fast message finish, and later ones be received, while a slow one is still running', async () => {
    const q = makeQueue(stack.server);
    const slowGate = deferred();
    const finished: string[] = [];
    consume(q, {
      concurrency: 3,
      handler: async (e) => {
        if (e.type !== 'job.run') return;
        if (e.data.name === 'slow') await slowGate.promise;
        finished.push(e.data.name);
      },
    });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'slow' });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'fast' });
    await until(() => finished.includes('fast'));
    // sent after the first receive: only a receive loop that is not blocked by 'slow' gets it
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'later' });
    await until(() => finished.includes('later'));
    expect(finished).toEqual(['fast', 'later']);
    slowGate.resolve();
    await until(() => finished.length === 3);
    expect(finished).toEqual(['fast', 'later', 'slow']);
  });

  it('receives whole batches when its concurrency holds two batches or more (fewer calls per message)', async () => {
    const q = makeQueue(stack.server);
    for (let i = 0; i < 60; i++) await sendEvent(stack.sqs, q.url, 'job.run', { name: `m${i}` });
    const asked: number[] = [];
    const name = 'recordReceiveSizes';
    stack.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { QueueUrl?: string; MaxNumberOfMessages?: number };
        if (context.commandName === 'ReceiveMessageCommand' && input.QueueUrl === q.url)
          asked.push(input.MaxNumberOfMessages ?? 1);
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      let handled = 0;
      consume(q, {
        concurrency: 20,
        handler: async () => {
          await new Promise((r) => setTimeout(r, 20));
          handled++;
        },
      });
      await until(() => handled === 60, 15_000);
    } finally {
      stack.sqs.middlewareStack.remove(name);
    }
    // Half a batch (5) would be asked for each time five of the 20 slots free up.
    expect(asked.length).toBeGreaterThanOrEqual(6);
    expect(new Set(asked)).toEqual(new Set([10]));
  });

  it('keeps a long handler message invisible with a heartbeat (no redelivery)', async () => {
    const q = makeQueue(stack.server, { visibility: 1 });
    const calls: number[] = [];
    let finished = 0;
    consume(q, {
      visibilityTimeoutSeconds: 1,
      handlerTimeoutSeconds: 10,
      heartbeat: { intervalSeconds: 0.4 },
      handler: async (_e, ctx) => {
        calls.push(ctx.receiveCount);
        await new Promise((r) => setTimeout(r, 3500));
        finished++;
      },
    });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'long' });
    // Without the heartbeat the message would come back after 1 s, more than twice during the handler.
    await until(() => finished === 1, 15_000);
    // Deletes are batched: wait for this one instead of for a fixed time (a loaded machine delays it).
    await until(async () => (await depth(stack.sqs, q.url)) === 0, 15_000);
    expect(calls).toEqual([1]);
  });

  it('retries a failed message after a backoff, then succeeds', async () => {
    const q = makeQueue(stack.server);
    const attempts: { count: number; at: number }[] = [];
    consume(q, {
      backoff: { baseSeconds: 1, maxSeconds: 4 },
      handler: (_e, ctx) => {
        attempts.push({ count: ctx.receiveCount, at: Date.now() });
        if (ctx.receiveCount === 1) throw new Error('database busy');
      },
    });
    await sendEvent(stack.sqs, q.url, 'job.run', { name: 'flaky' });
    await until(() => attempts.length === 2);
    expect(attempts.map((a) => a.count)).toEqual([1, 2]);
    // redelivered after the 1 s backoff, not at once and not after the 30 s visibility timeout
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    await until(() => consumers[0]!.inFlight === 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(await depth(stack.sqs, q.url)).toBe(0);
  });

  it('sends invalid and non-retryable messages to the DLQ at once, with the reason', async () => {
    const q = makeQueue(stack.server);
    const handled: string[] = [];
    consume(q, {
      handler: (e) => {
        handled.push(e.type);
        if (e.type === 'order.paid') throw new NonRetryableError('order o-9 does not exist');
      },
    });
    await sendRaw(stack.sqs, q.url, 'not json at all');
    await sendEvent(stack.sqs, q.url, 'order.placed', { orderId: 'o-1', total: 'ten' });
    await sendEvent(stack.sqs, q.url, 'order.paid', { orderId: 'o-9' });
    const dead = await receiveAll(stack.sqs, q.dlqUrl, 3);
    const reasons = dead.map((m) => m.MessageAttributes?.['failure-reason']?.StringValue ?? '');
    expect(reasons).toHaveLength(3);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^invalid-message: .*body is not JSON/),
        expect.stringMatching(/^invalid-message: Invalid event order\.placed .*data\.total/),
        expect.stringMatching(/^non-retryable: order o-9 does not exist/),
      ]),
    );
    // each went at once: first delivery, never redelivered; the handler saw only the valid event
    expect(
      dead.every((m) => m.MessageAttributes?.['failure-queue']?.StringValue === q.url.split('/').pop()),
    ).toBe(true);
    expect(handled).toEqual(['order.paid']);
    await new Promise((r) => setTimeout(r, 100));
    expect(await depth(stack.sqs, q.url)).toBe(0);
  });

  it('stops gracefully mid-batch: finished messages deleted, unfinished released, nothing lost', async () => {
    const q = makeQueue(stack.server);
    const done: string[] = [];
    const aborted: string[] = [];
    const started: string[] = [];
    const c = consume(q, {
      concurrency: 10,
      stopTimeoutMs: 300,
      // The aborted long poll may still take released messages on the server side (emulator and SQS alike);
      // they then come back after this visibility timeout instead of at once. Still nothing is lost.
      visibilityTimeoutSeconds: 2,
      handler: async (e, ctx) => {
        if (e.type !== 'job.run') return;
        started.push(e.id);
        if (e.data.name.startsWith('quick')) {
          done.push(e.id);
          return;
        }
        // a handler that only ends when the consumer gives up on it
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        aborted.push(e.id);
      },
    });
    const quick = await Promise.all(
      [1, 2, 3, 4].map((i) => sendEvent(stack.sqs, q.url, 'job.run', { name: `quick${i}` })),
    );
    const stuck = await Promise.all(
      [1, 2, 3].map((i) => sendEvent(stack.sqs, q.url, 'job.run', { name: `stuck${i}` })),
    );
    await until(() => started.length === 7);
    await c.stop();
    expect(c.running).toBe(false);
    expect(done.sort()).toEqual(quick.map((e) => e.id).sort());
    expect(aborted.sort()).toEqual(stuck.map((e) => e.id).sort());
    // only the unfinished are left (nothing unprocessed was deleted), and they come back
    expect(await depth(stack.sqs, q.url)).toBe(3);
    const back = await receiveAll(stack.sqs, q.url, 3, 6000);
    expect(back.map((m) => (JSON.parse(m.Body!) as EventEnvelope).id).sort()).toEqual(
      stuck.map((e) => e.id).sort(),
    );
  });
});
