import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { QueueResource } from '@flotilla/model';
import { createConsumer, listDeadLetters, NonRetryableError, redrive } from '../src/messaging/index.js';
import { startMessagingStack, type MessagingStack } from './support/messaging-stack.js';
import { schemas, testSystem } from './support/messaging-system.js';
import { depth, sendEvent, silentLog, until } from './support/messaging-queues.js';

let stack: MessagingStack;
let jobs: QueueResource;
beforeAll(async () => {
  stack = await startMessagingStack(testSystem);
  jobs = stack.resources.queues.find((q) => q.service === 'worker' && q.key === 'jobs')!;
});
afterAll(async () => stack.stop());

// Dead-lettering, listDeadLetters and redrive on fauxqs and moto: messaging-backends.test.ts. Here the
// round trip of a service's queue from the model: dead-lettered by the consumer, listed, redriven, handled.
describe('dead letters', () => {
  it('lists DLQ depth with samples, and redrive moves the messages back to the source queue', async () => {
    // Two events fail non-retryably: the consumer dead-letters them with a reason.
    let fail = true;
    const handled: string[] = [];
    const consumer = createConsumer({
      queueUrl: jobs.url,
      dlqUrl: jobs.dlq.url,
      schemas,
      sqs: stack.sqs,
      log: silentLog,
      waitTimeSeconds: 1,
      handler: (e) => {
        if (fail) throw new NonRetryableError('job target missing');
        handled.push(e.id);
      },
    });
    consumer.start();
    const sent = await Promise.all(
      ['a', 'b'].map((name) => sendEvent(stack.sqs, jobs.url, 'job.run', { name })),
    );
    await until(async () => (await depth(stack.sqs, jobs.dlq.url)) === 2, 5000);

    const report = await listDeadLetters(stack.resources, { sqs: stack.sqs, sampleSize: 5 });
    const row = report.find((r) => r.service === 'worker' && r.key === 'jobs')!;
    expect(row.depth).toBe(2);
    expect(row.samples.map((s) => s.eventId).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(row.samples[0]!.reason).toMatch(/job target missing/);
    expect(row.samples[0]!.type).toBe('job.run');
    // the other queues' DLQs are listed too, empty
    expect(report.filter((r) => r !== row).every((r) => r.depth === 0 && !r.error)).toBe(true);
    // peeking left them in the DLQ, visible
    expect((await listDeadLetters([jobs], { sqs: stack.sqs }))[0]!.depth).toBe(2);

    // The bug is fixed; redrive puts them back and the consumer handles them.
    fail = false;
    const result = await redrive({ sqs: stack.sqs, dlqUrl: jobs.dlq.url, sourceQueueUrl: jobs.url });
    expect(result).toEqual({ moved: 2, failed: 0, notDeleted: 0 });
    await until(() => handled.length === 2);
    expect(handled.sort()).toEqual(sent.map((e) => e.id).sort());
    await consumer.stop();
    expect(await depth(stack.sqs, jobs.dlq.url)).toBe(0);
    expect(await depth(stack.sqs, jobs.url)).toBe(0);
  });
});
