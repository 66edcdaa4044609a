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

    const list = await (await fetch(`${sink.url}/traces`)).text();
    expect(list).toContain(`href="/traces/${traceId}">POST /api/orders</a>`);
    const page = await (await fetch(`${sink.url}/traces/${traceId}`)).text();
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

  it('lists traces by their root, filters them by service and errors, and shows a trace with its attributes and links', async () => {
    sink = await startTraceSink({ port: 0, quietMs: 100 });
    const text = (value: string) => ({ stringValue: value });
    const at = (ms: number) => String(BigInt(1_700_000_000_000 + ms) * 1_000_000n);
    /** One OTLP/JSON span: [traceId, spanId, parent, service, name, kind, startMs, attributes, error?, links] */
    const post = (
      spans: {
        trace: string;
        id: string;
        parent?: string;
        service: string;
        name: string;
        kind: number;
        start: number;
        attributes?: Record<string, string>;
        error?: string;
        links?: { traceId: string; spanId: string }[];
      }[],
    ) =>
      fetch(`${sink!.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceSpans: spans.map((s) => ({
            resource: { attributes: [{ key: 'service.name', value: text(s.service) }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: s.trace,
                    spanId: s.id,
                    ...(s.parent ? { parentSpanId: s.parent } : {}),
                    name: s.name,
                    kind: s.kind,
                    startTimeUnixNano: at(s.start),
                    endTimeUnixNano: at(s.start + 40),
                    attributes: Object.entries(s.attributes ?? {}).map(([key, v]) => ({
                      key,
                      value: text(v),
                    })),
                    status: s.error ? { code: 2, message: s.error } : {},
                    ...(s.links ? { links: s.links } : {}),
                  },
                ],
              },
            ],
          })),
        }),
      });
    const order = 'a0000000000000000000000000000001';
    const event = 'a0000000000000000000000000000002';
    const failed = 'a0000000000000000000000000000003';
    await post([
      {
        trace: order,
        id: 'b000000000000001',
        parent: 'c000000000000001', // the caller's span, not exported
        service: 'orders',
        name: 'POST',
        kind: 2,
        start: 0,
        attributes: { 'http.request.method': 'POST', 'http.route': '/api/orders', 'url.path': '/api/orders' },
      },
      {
        trace: order,
        id: 'b000000000000002',
        parent: 'b000000000000001',
        service: 'inventory',
        name: 'POST /internal/reservations',
        kind: 2,
        start: 5,
      },
      {
        trace: order,
        id: 'b000000000000003',
        parent: 'b000000000000001',
        service: 'orders',
        name: 'SNS PublishBatch',
        kind: 3,
        start: 10,
        links: [{ traceId: event, spanId: 'b000000000000010' }],
      },
      {
        trace: event,
        id: 'b000000000000010',
        service: 'payments',
        name: 'process shop-payments-orders',
        kind: 5,
        start: 100,
        attributes: { 'flotilla.event.type': 'order.placed' },
      },
      {
        trace: failed,
        id: 'b000000000000020',
        service: 'notifications',
        name: 'GET /api/notifications',
        kind: 2,
        start: 200,
        error: 'database down',
      },
    ]);
    const list = async (query = '') => {
      const html = await (await fetch(`${sink!.url}/traces${query}`)).text();
      return [
        ...html.matchAll(
          /<tr class="trace[^"]*" data-trace-id="([0-9a-f]+)"><td><a href="[^"]+">([^<]+)<\/a>/g,
        ),
      ].map((m) => [m[1], m[2]]);
    };
    // Newest first, each by what started it: the route, the event, or the span name.
    expect(await list()).toEqual([
      [failed, 'GET /api/notifications'],
      [event, 'event order.placed'],
      [order, 'POST /api/orders'],
    ]);
    expect(await list('?service=inventory')).toEqual([[order, 'POST /api/orders']]);
    expect(await list('?service=payments')).toEqual([[event, 'event order.placed']]);
    expect(await list('?errors=1')).toEqual([[failed, 'GET /api/notifications']]);
    expect(await list('?service=orders&errors=1')).toEqual([]);
    const api = (await (await fetch(`${sink.url}/api/traces?service=inventory`)).json()) as {
      traceId: string;
    }[];
    expect(api.map((t) => t.traceId)).toEqual([order]);

    const detail = await (await fetch(`${sink.url}/traces/${order}`)).text();
    const spans = [...detail.matchAll(/data-span-id="([0-9a-f]+)" data-service="([^"]+)"/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(spans).toEqual([
      ['b000000000000001', 'orders'],
      ['b000000000000002', 'inventory'],
      ['b000000000000003', 'orders'],
    ]);
    expect(detail).toContain('<tr><th>http.route</th><td>/api/orders</td></tr>');
    expect(detail).toContain(`<a href="/traces/${event}">trace ${event}</a>`);
    expect(detail).toMatch(/40\.0 ms/);

    const missing = await fetch(`${sink.url}/traces/${'f'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
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
