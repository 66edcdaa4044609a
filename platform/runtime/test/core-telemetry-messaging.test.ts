/**
 * What a consuming service exports, with the real SDK (preload, aws-sdk instrumentation) to an OTLP
 * receiver: traces a person can read. A consumer's long polls and its housekeeping calls (deletes,
 * visibility changes for heartbeats and retries) are not traces of their own; a message's handling
 * continues the trace that sent it; and one SendMessageBatch that carries messages of several traces keeps
 * each message in its own trace, linking the batch call to the traces it joins.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EMULATOR_CREDENTIALS } from '@flotilla/model';
import { baseEnv, startChildService, type ChildService } from './support/child-service.js';
import { createTestQueue } from './support/messaging-queues.js';
import { emulatorClients, startMessagingEmulator, type EmulatorClients } from './support/messaging-stack.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

/** SQS calls a consumer makes to poll and to look after its messages, not to move them. */
const HOUSEKEEPING = [
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
];
const CONSUMER = 5;

let receiver: OtlpReceiver;
let emulator: Awaited<ReturnType<typeof startMessagingEmulator>>;
let clients: EmulatorClients;
let svc: ChildService & { url: string };
let queueName: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  emulator = await startMessagingEmulator();
  clients = emulatorClients(emulator.endpoint);
  const queue = await createTestQueue(clients.sqs);
  queueName = queue.url.split('/').pop()!;
  const { endpoint } = emulator;
  svc = await startChildService(
    'messaging-service.ts',
    baseEnv({
      OTEL_SDK_DISABLED: 'false',
      OTEL_SERVICE_NAME: 'fixture',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // What envFor configures.
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '1',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_METRICS_EXPORTER: 'none',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ENDPOINT_URL_SNS: endpoint,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      CONSUME_JOBS_QUEUE_URL: queue.url,
      CONSUME_JOBS_DLQ_URL: queue.dlqUrl,
      FIXTURE_QUEUE_URL: queue.url,
      FIXTURE_SLOW_MS: '1500',
    }),
    { preload: true },
  );
}, 60_000);

afterAll(async () => {
  await svc?.kill();
  clients?.sqs.destroy();
  clients?.sns.destroy();
  await emulator?.server.stop();
  await receiver?.close();
});

const traceparentOf = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;

/** Sends one job per trace in a single SendMessageBatch; resolves once every job's CONSUMER span arrived. */
async function deliver(jobs: readonly { name: string; traceId: string; spanId: string }[]) {
  const res = await fetch(`${svc.url}/deliver`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      traceparents: jobs.map((j) => traceparentOf(j.traceId, j.spanId)),
      names: jobs.map((j) => j.name),
    }),
  });
  expect(res.status).toBe(202);
  return receiver.waitForSpans(
    (all) => jobs.every((j) => all.some((s) => s.traceId === j.traceId && s.kind === CONSUMER)),
    15_000,
  );
}

const isHousekeeping = (s: ReceivedSpan) =>
  s.attributes['rpc.service'] === 'SQS' && HOUSEKEEPING.includes(String(s.attributes['rpc.method']));

describe('telemetry of a consuming service', () => {
  it('keeps each message of a batch in its own trace, and links the batch call to the traces it joins', async () => {
    const a = { name: 'a', traceId: '1f3a2b1c0d9e8f7a6b5c4d3e2f1a0b01', spanId: '1a2b3c4d5e6f7a01' };
    const b = { name: 'b', traceId: '1f3a2b1c0d9e8f7a6b5c4d3e2f1a0b02', spanId: '1a2b3c4d5e6f7a02' };
    const spans = await deliver([a, b]);
    for (const job of [a, b]) {
      const processed = spans.find((s) => s.traceId === job.traceId && s.kind === CONSUMER);
      // the handling continues the message's own trace, from the span that wrote it
      expect(processed?.name).toBe(`process ${queueName}`);
      expect(processed?.parentSpanId).toBe(job.spanId);
    }
    const batch = spans.find(
      (s) => s.attributes['rpc.method'] === 'SendMessageBatch' && s.attributes['rpc.service'] === 'SQS',
    );
    expect(batch).toBeDefined();
    // The batch call lives in the trace of the request that made it and links to each message's trace.
    expect(batch!.links.map((l) => [l.traceId, l.spanId]).sort()).toEqual([
      [a.traceId, a.spanId],
      [b.traceId, b.spanId],
    ]);
  });

  it('exports no trace for long polls, deletes, heartbeats or retries', async () => {
    const slow = { name: 'slow', traceId: '2f3a2b1c0d9e8f7a6b5c4d3e2f1a0b01', spanId: '2a2b3c4d5e6f7a01' };
    const flaky = { name: 'flaky', traceId: '2f3a2b1c0d9e8f7a6b5c4d3e2f1a0b02', spanId: '2a2b3c4d5e6f7a02' };
    await deliver([slow, flaky]);
    // The slow job runs 1.5 s (three heartbeats); the flaky one is retried (a visibility change), then both
    // are deleted. Meanwhile the consumer long-polls an empty queue (1 s polls).
    await svc.waitForLog(
      (l) => l.msg === 'job handled' && l.name === 'flaky' && l.receiveCount === 2,
      15_000,
    );
    await receiver.waitForSpans(
      (all) => all.filter((s) => s.traceId === slow.traceId && s.kind === CONSUMER).length === 1,
    );
    await new Promise((r) => setTimeout(r, 3000));
    // Spans exported from now on were made before this request's: its span arriving means they are all here.
    const marker = {
      name: 'marker',
      traceId: '2f3a2b1c0d9e8f7a6b5c4d3e2f1a0b03',
      spanId: '2a2b3c4d5e6f7a03',
    };
    const spans = await deliver([marker]);

    const roots = spans.filter((s) => s.parentSpanId === '');
    expect(
      roots.filter(isHousekeeping).map((s) => `${s.name} (${String(s.attributes['rpc.method'])})`),
    ).toEqual([]);
    // Nor are they hidden in some other trace: a housekeeping call made outside a sampled trace is not recorded.
    expect(spans.filter(isHousekeeping).map((s) => s.name)).toEqual([]);
    // The retry of the flaky job still continues its trace: two deliveries, two CONSUMER spans.
    expect(spans.filter((s) => s.traceId === flaky.traceId && s.kind === CONSUMER)).toHaveLength(2);
  });
});
