import { afterEach, describe, expect, it } from '@jest/globals';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { startTraceSink, type TraceSink } from '../src/index.js';
import { eventually } from '../src/testing.js';

describe('trace sink', () => {
  let sink: TraceSink | undefined;
  afterEach(async () => {
    await sink?.stop();
    sink = undefined;
  });

  it('receives an OTLP/HTTP protobuf export from the OpenTelemetry SDK and prints one indented line per span', async () => {
    const printed: string[] = [];
    sink = await startTraceSink({ port: 0, quietMs: 100, print: (lines) => printed.push(...lines) });
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'orders' }),
      spanProcessors: [
        new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${sink.url}/v1/traces` }) }),
      ],
    });
    const tracer = provider.getTracer('test');
    const root = tracer.startSpan('POST /api/orders');
    const child = tracer.startSpan('reserve stock', {}, trace.setSpan(context.active(), root));
    const grandchild = tracer.startSpan('charge card', {}, trace.setSpan(context.active(), child));
    grandchild.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
    grandchild.end();
    child.end();
    root.end();
    await provider.forceFlush();
    await provider.shutdown();

    const traceId = root.spanContext().traceId;
    await eventually('the trace printed', async () => (printed.length >= 4 ? true : undefined));
    expect(printed[0]).toMatch(new RegExp(`^trace ${traceId.slice(0, 8)} · 3 spans · .* · 1 error$`));
    expect(printed[1]).toMatch(/^ {2}orders POST \/api\/orders\s+[\d.]+ (µs|ms)\s+-$/);
    expect(printed[2]).toMatch(/^ {4}orders reserve stock\s+[\d.]+ (µs|ms)\s+-$/);
    expect(printed[3]).toMatch(/^ {6}orders charge card\s+[\d.]+ (µs|ms)\s+ERROR card declined$/);

    const page = await (await fetch(`${sink.url}/traces`)).text();
    expect(page).toContain(traceId);
    expect(page).toContain('reserve stock');
    expect(page).toContain('card declined');
  });

  it('accepts OTLP/JSON and late spans of a printed trace as a continuation', async () => {
    const printed: string[] = [];
    sink = await startTraceSink({ port: 0, quietMs: 100, print: (lines) => printed.push(...lines) });
    const traceId = '5b8efff798038103d269b633813fc60c';
    const span = (spanId: string, name: string, service: string, parentSpanId?: string) => ({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId,
                  ...(parentSpanId ? { parentSpanId } : {}),
                  name,
                  kind: 2,
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000000250000000',
                  status: { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    });
    const post = (body: unknown) =>
      fetch(`${sink!.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post(span('eee19b7ec3c1b174', 'POST /api/orders', 'orders'))).status).toBe(200);
    await eventually('the first part printed', async () => (printed.length >= 2 ? true : undefined));
    await post(span('eee19b7ec3c1b175', 'handle order.placed', 'payments', 'eee19b7ec3c1b174'));
    await eventually('the late span printed', async () => (printed.length >= 4 ? true : undefined));
    expect(printed[1]).toMatch(/^ {2}orders POST \/api\/orders\s+250\.0 ms {2}OK$/);
    expect(printed[2]).toMatch(/· 2 spans · .* · \+1 late$/);
    expect(printed[3]).toMatch(/^ {4}payments handle order\.placed\s+250\.0 ms {2}OK$/);
  });

  it('answers problems for bodies it cannot read', async () => {
    sink = await startTraceSink({ port: 0 });
    const wrongType = await fetch(`${sink.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get('content-type')).toBe('application/problem+json');
    const broken = await fetch(`${sink.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff, 0xff]),
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { detail: string }).detail).toMatch(/Cannot decode the OTLP export/);
  });
});
