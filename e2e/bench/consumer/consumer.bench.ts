/**
 * Issue 3, messaging throughput on the in-process SQS emulator (fauxqs, started from a model the way the
 * runtime tests start it), with the real AWS SDK over HTTP on 127.0.0.1.
 * - Consume: a queue pre-filled with N envelopes, a handler that awaits 5 ms; messages/s until all are
 *   handled and deleted, for sqs-consumer (default per-message mode), a bare ceiling of concurrent receive
 *   loops with batch delete, and createConsumer at several concurrencies. Contenders alternate per round.
 *   Targets: createConsumer >= 5x sqs-consumer and >= 0.8x the bare ceiling, at the concurrency that gives it
 *   as many messages in flight as the ceiling (lower concurrencies are shown, as info). Also, as info: the
 *   default concurrency against its Little's-law ceiling (concurrency / handler time), and the inbox on
 *   PGlite (the handler in the inbox transaction, as `useConsumer` runs it with `inbox`).
 * - Publish: N messages to a queue with the publisher (publishBatch, and concurrent send() calls that it
 *   batches) vs a bare SendMessageBatch loop. Target: "close to" the loop, read here as >= 0.8x.
 * No OpenTelemetry SDK is started, so spans are no-ops on every side.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { defineService, defineSystem } from '@flotilla/model';
import { pino } from 'pino';
import { openDatabase } from '../../../platform/runtime/src/database/index.js';
import { createPublisher, uuidv7 } from '../../../platform/runtime/src/messaging/index.js';
import { startMessagingStack } from '../../../platform/runtime/test/support/messaging-stack.js';
import { knob, report, type Row } from '../lib/result.js';
import { median, samples, sleep } from '../lib/stats.js';
import {
  bareLoops,
  flotillaConsumer,
  inboxConsumer,
  jobMigrations,
  jobSchemas,
  sqsConsumer,
  type Drain,
  type DrainOptions,
  type JobTables,
} from './contenders.js';

const MESSAGES = knob('BENCH_CONSUMER_MESSAGES', 3000, 300);
// sqs-consumer drains one message per receive: a smaller queue gives its rate in a few seconds too.
const SLOW_MESSAGES = knob('BENCH_CONSUMER_SLOW_MESSAGES', 600, 60);
// The inbox on PGlite runs one transaction at a time (see the inbox row): a smaller queue too.
const INBOX_MESSAGES = knob('BENCH_CONSUMER_INBOX_MESSAGES', 600, 60);
const PUBLISH_MESSAGES = knob('BENCH_PUBLISH_MESSAGES', 2000, 200);
const ROUNDS = knob('BENCH_CONSUMER_ROUNDS', 3, 1);
const HANDLER_MS = 5;
const BARE_LOOPS = 10;
/** Messages the bare ceiling has in flight: each loop handles a whole batch of 10 at once. */
const BARE_IN_FLIGHT = BARE_LOOPS * 10;
/** createConsumer's default concurrency (ConsumerOptions.concurrency's @default). */
const DEFAULT_CONCURRENCY = 10;
/** undefined: createConsumer's default, passing no concurrency at all. */
const CONCURRENCIES = [undefined, 50, BARE_IN_FLIGHT];
const consumerName = (c: number | undefined) =>
  c === undefined
    ? `createConsumer default concurrency (${DEFAULT_CONCURRENCY})`
    : `createConsumer concurrency ${c}`;
/** Little's law: at most `concurrency` messages in flight, each for the handler time. */
const littleCeiling = (concurrency: number) => (concurrency * 1000) / HANDLER_MS;
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

const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-inbox-'));
// The inbox's database: PGlite copied from the cached template, as a service's embedded database.
const database = await openDatabase<JobTables>({
  dir: join(dataDir, 'db'),
  migrations: jobMigrations,
  log: pino({ level: 'warn' }),
});
try {
  const INBOX = `${consumerName(undefined)}, inbox on PGlite`;
  const contenders: Array<[string, (o: DrainOptions) => Drain, number]> = [
    ['sqs-consumer (per message, batch 10)', sqsConsumer, SLOW_MESSAGES],
    [`bare: ${BARE_LOOPS} receive loops, batch 10, batch delete`, (o) => bareLoops(o, BARE_LOOPS), MESSAGES],
    ...CONCURRENCIES.map((c): [string, (o: DrainOptions) => Drain, number] => [
      consumerName(c),
      (o) => flotillaConsumer(o, c),
      MESSAGES,
    ]),
    [INBOX, (o) => inboxConsumer(o, database), INBOX_MESSAGES],
  ];
  const rates = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, start, messages] of contenders) {
      rates.get(name)?.push(await drainRate(name, start, messages));
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
  const undeletedNote = undeleted.length > 0 ? `NOT DELETED: ${undeleted.join('; ')}; ` : '';
  const setting = `${MESSAGES} msgs (sqs-consumer ${SLOW_MESSAGES}, inbox ${INBOX_MESSAGES}), handler ${HANDLER_MS} ms`;
  const rows: Row[] = [];
  for (const c of CONCURRENCIES) {
    const name = consumerName(c);
    // The targets compare frameworks, so they apply where createConsumer may have as many messages in flight
    // as the bare ceiling. Below that, Little's law caps it at concurrency / handler time, whatever its
    // overhead: those rows show what a lower limit gives.
    const comparable = c === BARE_IN_FLIGHT;
    const inFlight = c ?? DEFAULT_CONCURRENCY;
    const cap = `Little's-law ceiling ${inFlight} / ${HANDLER_MS} ms = ${littleCeiling(inFlight)} msg/s`;
    const note = `${undeletedNote}${setting}; ${name} ${samples(rates.get(name) ?? [])} msg/s; ${cap}${comparable ? '' : `; the bare loops have ${BARE_IN_FLIGHT} in flight`}`;
    rows.push(
      {
        suite: 'consumer',
        name: `${name} vs sqs-consumer`,
        unit: 'msg/s',
        flotilla: med(name),
        baseline: med(sqsName),
        baselineName: sqsName,
        target: comparable ? { kind: 'min-ratio', ratio: 5 } : { kind: 'info' },
        note: `${note}; sqs-consumer ${samples(rates.get(sqsName) ?? [])}`,
      },
      {
        suite: 'consumer',
        name: `${name} vs bare loops`,
        unit: 'msg/s',
        flotilla: med(name),
        baseline: med(bareName),
        baselineName: bareName,
        target: comparable ? { kind: 'min-ratio', ratio: 0.8 } : { kind: 'info' },
        note: `${note}; bare ${samples(rates.get(bareName) ?? [])}`,
      },
    );
  }
  rows.push(
    {
      suite: 'consumer',
      name: `${consumerName(undefined)} vs its Little's-law ceiling`,
      unit: 'msg/s',
      flotilla: med(consumerName(undefined)),
      baseline: littleCeiling(DEFAULT_CONCURRENCY),
      baselineName: `Little's law: ${DEFAULT_CONCURRENCY} in flight / ${HANDLER_MS} ms handler`,
      target: { kind: 'info' },
      note: `no framework can pass the ceiling with ${DEFAULT_CONCURRENCY} handlers of ${HANDLER_MS} ms at once; raise concurrency for more`,
    },
    {
      suite: 'consumer',
      name: `${INBOX} vs the same without inbox`,
      unit: 'msg/s',
      flotilla: med(INBOX),
      baseline: med(consumerName(undefined)),
      baselineName: consumerName(undefined),
      target: { kind: 'info' },
      note:
        `${undeletedNote}${INBOX_MESSAGES} msgs; inbox ${samples(rates.get(INBOX) ?? [])} msg/s; the handler ` +
        `awaits ${HANDLER_MS} ms and writes one row inside the inbox transaction, as useConsumer runs it; PGlite ` +
        `has one session, so transactions run one at a time: Little's-law ceiling 1 / ${HANDLER_MS} ms = ` +
        `${littleCeiling(1)} msg/s whatever the concurrency (a PostgreSQL server runs them side by side)`,
    },
  );
  rows.push(
    {
      suite: 'publish',
      name: 'publishBatch vs bare SendMessageBatch loop',
      unit: 'msg/s',
      flotilla: median(publishRates.batch),
      baseline: median(publishRates.bare),
      baselineName: 'bare SendMessageBatch loop',
      target: { kind: 'min-ratio', ratio: 0.8 },
      note: `${PUBLISH_MESSAGES} msgs; bare ${samples(publishRates.bare)}; publishBatch ${samples(publishRates.batch)}`,
    },
    {
      suite: 'publish',
      name: 'concurrent send() (auto-batched) vs bare loop',
      unit: 'msg/s',
      flotilla: median(publishRates.auto),
      baseline: median(publishRates.bare),
      baselineName: 'bare SendMessageBatch loop',
      target: { kind: 'min-ratio', ratio: 0.8 },
      note: `send() ${samples(publishRates.auto)}`,
    },
  );
  report(rows);
} finally {
  await stack.stop();
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
}
