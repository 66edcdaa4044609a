import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { baseEnv, startChildService, type ChildService } from './support/child-service.js';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';

let receiver: OtlpReceiver;
let fauxqs: Awaited<ReturnType<typeof startFauxqs>>;
let svc: ChildService & { url: string };
let sqs: SQSClient;
let queueUrl: string;

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  fauxqs = await startFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${fauxqs.port}`;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'telemetry-test' }))).QueueUrl ?? '';
  svc = await startChildService(
    'aws-service.ts',
    baseEnv({
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_METRICS_EXPORTER: 'none',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      FIXTURE_QUEUE_URL: queueUrl,
      FIXTURE_CLOSED_PORT: String(await closedPort()),
    }),
    { preload: true },
  );
});

afterAll(async () => {
  await svc?.kill();
  sqs?.destroy();
  await fauxqs?.stop();
  await receiver?.close();
});

describe('telemetry preload with ESM imports of the AWS SDK and pg', () => {
  it('traces an SQS call as a client span inside the request and propagates the trace to the message', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${svc.url}/send`, {
      method: 'POST',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    if (res.status !== 202)
      throw new Error(`send failed: ${JSON.stringify(svc.logs.filter((l) => l.level === 'error'))}`);
    const spans = await receiver.waitForSpans((all) =>
      all.some((s) => s.traceId === traceId && s.scope === '@opentelemetry/instrumentation-aws-sdk'),
    );
    const server = spans.find((s) => s.traceId === traceId && s.kind === 2);
    const aws = spans.find(
      (s) => s.traceId === traceId && s.scope === '@opentelemetry/instrumentation-aws-sdk',
    );
    expect(aws?.name).toBe('telemetry-test send');
    expect(aws?.attributes).toMatchObject({
      'rpc.service': 'SQS',
      'rpc.method': 'SendMessage',
      'messaging.system': 'aws_sqs',
    });
    const ids = new Map(spans.map((s) => [s.spanId, s.parentSpanId]));
    let at = aws?.parentSpanId;
    while (at !== undefined && at !== '' && at !== server?.spanId) at = ids.get(at);
    expect(at).toBe(server?.spanId);
    // The AWS SDK instrumentation injects the trace context into the message attributes.
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    expect(got.Messages?.[0]?.MessageAttributes?.traceparent?.StringValue).toContain(traceId);
  });

  it('traces a pg connection attempt inside the request', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4737';
    const res = await fetch(`${svc.url}/pg`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(503);
    const spans = await receiver.waitForSpans((all) =>
      all.some((s) => s.traceId === traceId && s.scope === '@opentelemetry/instrumentation-pg'),
    );
    const pgSpan = spans.find(
      (s) => s.traceId === traceId && s.scope === '@opentelemetry/instrumentation-pg',
    );
    expect(pgSpan?.name).toBe('pg.connect');
    expect(pgSpan?.status.code).toBe(2); // ERROR: nothing listens there
  });
});
