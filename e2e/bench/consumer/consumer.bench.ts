/**
 * Issue 3, messaging throughput on the in-process SQS emulator (fauxqs, started from a model the way the
 * runtime tests start it), with the real AWS SDK over HTTP on 127.0.0.1.
 * - Consume: a queue pre-filled with N envelopes, a handler that awaits 5 ms; messages/s until all are
 *   handled and deleted, for sqs-consumer (default per-message mode), a bare ceiling of concurrent receive
 *   loops with batch delete, and createConsumer at several concurrencies. Contenders alternate per round.
 *   Targets: createConsumer >= 5x sqs-consumer and >= 0.8x the bare ceiling, at the concurrency that gives it
 *   as many messages in flight as the ceiling (lower concurrencies are shown, as info).
 * - Publish: N messages to a queue with the publisher (publishBatch, and concurrent send() calls that it
 *   batches) vs a bare SendMessageBatch loop. Target: "close to" the loop, read here as >= 0.8x.
 * No OpenTelemetry SDK is started, so spans are no-ops on every side.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { defineService, defineSystem } from '@flotilla/model';
import { pino } from 'pino';
import { createPublisher, uuidv7 } from '../../../platform/runtime/src/messaging/index.js';
import { startMessagingStack } from '../../../platform/runtime/test/support/messaging-stack.js';
import { report, type Row } from '../lib/result.js';
import { median, samples, sleep } from '../lib/stats.js';
import {
  bareLoops,
  flotillaConsumer,
  jobSchemas,
  sqsConsumer,
  type Drain,
  type DrainOptions,
} from './contenders.js';

const MESSAGES = Number(process.env.BENCH_CONSUMER_MESSAGES ?? 3000);
// sqs-consumer drains one message per receive: a smaller queue gives its rate in a few seconds too.
const SLOW_MESSAGES = Number(process.env.BENCH_CONSUMER_SLOW_MESSAGES ?? 600);
const PUBLISH_MESSAGES = Number(process.env.BENCH_PUBLISH_MESSAGES ?? 2000);
const ROUNDS = Number(process.env.BENCH_CONSUMER_ROUNDS ?? 3);
const HANDLER_MS = 5;
const BARE_LOOPS = 10;
/** Messages the bare ceiling has in flight: each loop handles a whole batch of 10 at once. */
const BARE_IN_FLIGHT = BARE_LOOPS * 10;
const CONCURRENCIES = [10, 50, BARE_IN_FLIGHT];
const DRAIN_TIMEOUT_MS = 60_000;
/** Drains whose messages were handled but not all deleted (reported, not hidden). */
const undeleted: string[] = [];

const system = defineSystem({
  name: 'bench',
  topics: [],
  services: [
    defineService({ name: 'producer', port: 9101, sends: [{ service: 'worker', queue: 'jobs' }] }),
    defineService({ name: 'worker', port: 9102, consumes: [{ queue: 'jobs' }] }),
  ],
});
const stack = await startMessagingStack(system, 'bench');
const modelQueue = stack.resources.queues[0];
if (modelQueue === undefined) throw new Error('the bench model has no queue');
let queues = 0;

/** A fresh queue configured like the model's (visibility, DLQ, redrive), so runs never share messages. */
function freshQueue(): { url: string; dlqUrl: string; name: string } {
  const name = `${modelQueue?.name}-run${++queues}`;
  const dlq = stack.server.createQueue(`${name}-dlq`);
  const q = stack.server.createQueue(name, {
    attributes: {
      VisibilityTimeout: String(modelQueue?.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.queueArn,
        maxReceiveCount: modelQueue?.maxReceiveCount,
      }),
    },
  });
  return { url: q.queueUrl, dlqUrl: dlq.queueUrl, name };
}

function entries(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const envelope = {
      id: uuidv7(),
      type: 'job.run',
      source: 'producer',
      time: new Date().toISOString(),
      data: { n },
    };
    return {
      Id: String(i),
      MessageBody: JSON.stringify(envelope),
      MessageAttributes: { type: { DataType: 'String', StringValue: 'job.run' } },
    };
  });
}

/** The bare publish loop: SendMessageBatch of 10, one after the other. */
async function sendBatchLoop(sqs: SQSClient, url: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    const r = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: entries(i, Math.min(10, count - i)) }),
    );
    if ((r.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(r.Failed)}`);
  }
}

/** Pre-fills a queue quickly (not measured): 10 batch calls at a time. */
async function prefill(url: string, name: string, count: number): Promise<void> {
  const calls: Promise<unknown>[] = [];
  const failed = (r: { Failed?: unknown[] }) => {
    if ((r.Failed ?? []).length > 0)
      throw new Error(`prefill: SendMessageBatch failed: ${JSON.stringify(r.Failed)}`);
  };
  for (let i = 0; i < count; i += 10) {
    calls.push(
      stack.sqs
        .send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries(i, Math.min(10, count - i)) }))
        .then(failed),
    );
    if (calls.length === 10) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
  if (left(name) !== count) throw new Error(`prefill: queue holds ${left(name)} messages, expected ${count}`);
}

function left(name: string): number {
  const q = stack.server.inspectQueue(name);
  return q === undefined
    ? -1
    : q.messages.ready.length + q.messages.inflight.length + q.messages.delayed.length;
}

/** Messages/s of one drain: from start until every message was handled and deleted. */
async function drainRate(name: string, start: (o: DrainOptions) => Drain, messages: number): Promise<number> {
  const q = freshQueue();
  await prefill(q.url, q.name, messages);
  const started = performance.now();
  const drain = start({
    sqs: stack.sqs,
    queueUrl: q.url,
    dlqUrl: q.dlqUrl,
    count: messages,
    handlerMs: HANDLER_MS,
  });
  // The rate counts handled messages; deletes are checked after the clock stops (a delete that fails makes
  // its message come back only after the visibility timeout, which would swamp the rate and hide the cause).
  // A stalled drain fails loudly with what is left instead of hanging the run.
  const stalled = (what: string) => {
    const info = stack.server.inspectQueue(q.name)?.messages;
    return new Error(
      `${what}: handled ${drain.handled()}/${messages}; left ready ${info?.ready.length} in flight ` +
        `${info?.inflight.length} delayed ${info?.delayed.length}`,
    );
  };
  await Promise.race([drain.done, new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS).unref())]);
  const seconds = (performance.now() - started) / 1000;
  if (drain.handled() < messages) {
    await drain.stop();
    throw stalled(`drain stalled after ${DRAIN_TIMEOUT_MS} ms`);
  }
  const deleted = performance.now() + 5_000;
  while (left(q.name) > 0 && performance.now() < deleted) await sleep(5);
  if (left(q.name) > 0)
    undeleted.push(`${name}: ${left(q.name)} of ${messages} not deleted 5 s after handling`);
  await drain.stop();
  return messages / seconds;
}

try {
  const contenders: Array<[string, (o: DrainOptions) => Drain]> = [
    ['sqs-consumer (per message, batch 10)', sqsConsumer],
    [`bare: ${BARE_LOOPS} receive loops, batch 10, batch delete`, (o) => bareLoops(o, BARE_LOOPS)],
    ...CONCURRENCIES.map((c): [string, (o: DrainOptions) => Drain] => [
      `createConsumer concurrency ${c}`,
      (o) => flotillaConsumer(o, c),
    ]),
  ];
  const rates = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, start] of contenders) {
      rates.get(name)?.push(await drainRate(name, start, start === sqsConsumer ? SLOW_MESSAGES : MESSAGES));
    }
  }

  const publisher = createPublisher({
    source: 'producer',
    schemas: jobSchemas,
    sqs: stack.sqs,
    sns: stack.sns,
    log: pino({ level: 'warn' }),
  });
  const publishRates = { bare: [] as number[], batch: [] as number[], auto: [] as number[] };
  const timed = async (fn: (url: string) => Promise<unknown>) => {
    const { url } = freshQueue();
    const started = performance.now();
    await fn(url);
    return PUBLISH_MESSAGES / ((performance.now() - started) / 1000);
  };
  const payloads = Array.from({ length: PUBLISH_MESSAGES }, (_, n) => ({ n }));
  for (let round = 0; round < ROUNDS; round++) {
    publishRates.bare.push(await timed((url) => sendBatchLoop(stack.sqs, url, PUBLISH_MESSAGES)));
    publishRates.batch.push(
      await timed(async (url) => {
        const r = await publisher.publishBatch(
          payloads.map((data) => ({ queue: url, type: 'job.run' as const, data })),
        );
        if (r.failed.length > 0) throw new Error(`${r.failed.length} not delivered`);
      }),
    );
    publishRates.auto.push(
      await timed((url) => Promise.all(payloads.map((data) => publisher.send(url, 'job.run', data)))),
    );
  }

  const med = (name: string) => median(rates.get(name) ?? []);
  const [sqsName, bareName] = [contenders[0]?.[0] as string, contenders[1]?.[0] as string];
  const rows: Row[] = [];
  rows.push({
    suite: 'consumer',
    name: 'bare receive loops vs sqs-consumer',
    unit: 'msg/s',
    baseline: med(sqsName),
    subject: med(bareName),
    target: { kind: 'info' },
    note: `${undeleted.length > 0 ? `NOT DELETED: ${undeleted.join('; ')}; ` : ''}${MESSAGES} msgs (sqs-consumer ${SLOW_MESSAGES}), handler ${HANDLER_MS} ms; sqs-consumer ${samples(rates.get(sqsName) ?? [])}; bare ${samples(rates.get(bareName) ?? [])}`,
  });
  for (const c of CONCURRENCIES) {
    const name = `createConsumer concurrency ${c}`;
    // The targets compare frameworks, so they apply where createConsumer may have as many messages in flight
    // as the bare ceiling. Below that, Little's law caps it at concurrency / handler time, whatever its
    // overhead: those rows show what a lower limit gives.
    const comparable = c === BARE_IN_FLIGHT;
    const cap = `at most ${c} / ${HANDLER_MS} ms = ${Math.round((c * 1000) / HANDLER_MS)} msg/s`;
    const note = `${samples(rates.get(name) ?? [])} msg/s${comparable ? '' : `; ${cap}, the bare loops have ${BARE_IN_FLIGHT} in flight`}`;
    rows.push(
      {
        suite: 'consumer',
        name: `${name} vs sqs-consumer`,
        unit: 'msg/s',
        baseline: med(sqsName),
        subject: med(name),
        target: comparable ? { kind: 'min-ratio', ratio: 5 } : { kind: 'info' },
        note,
      },
      {
        suite: 'consumer',
        name: `${name} vs bare loops`,
        unit: 'msg/s',
        baseline: med(bareName),
        subject: med(name),
        target: comparable ? { kind: 'min-ratio', ratio: 0.8 } : { kind: 'info' },
        note,
      },
    );
  }
  rows.push(
    {
      suite: 'publish',
      name: 'publishBatch vs bare SendMessageBatch loop',
      unit: 'msg/s',
      baseline: median(publishRates.bare),
      subject: median(publishRates.batch),
      target: { kind: 'min-ratio', ratio: 0.8 },
      note: `${PUBLISH_MESSAGES} msgs; bare ${samples(publishRates.bare)}; publishBatch ${samples(publishRates.batch)}`,
    },
    {
      suite: 'publish',
      name: 'concurrent send() (auto-batched) vs bare loop',
      unit: 'msg/s',
      baseline: median(publishRates.bare),
      subject: median(publishRates.auto),
      target: { kind: 'min-ratio', ratio: 0.8 },
      note: `send() ${samples(publishRates.auto)}`,
    },
  );
  report(rows);
} finally {
  await stack.stop();
}
