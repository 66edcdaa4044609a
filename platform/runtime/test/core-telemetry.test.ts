import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { baseEnv, startChildService, type ChildService } from './support/child-service.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { startTracedService, type TracedService } from './support/traced-service.js';

let traced: TracedService;
let receiver: OtlpReceiver;
let svc: ChildService & { url: string };

beforeAll(async () => {
  traced = await startTracedService('service.ts', {
    SERVICE_VERSION: '1.4.2',
    FLOTILLA_ENVIRONMENT: 'dev',
    OTEL_SERVICE_NAME: 'fixture',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '1',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_METRIC_EXPORT_INTERVAL: '200',
    OTEL_RESOURCE_ATTRIBUTES: 'team=shop',
    POD_NAME: 'fixture-5c9d-x2k4q',
    POD_NAMESPACE: 'shop',
    NODE_NAME: 'ip-10-0-3-7',
  });
  ({ receiver, svc } = traced);
});

afterAll(async () => {
  await traced?.stop();
});

const serverSpans = (spans: readonly ReceivedSpan[], traceId: string) =>
  spans.filter((s) => s.traceId === traceId && s.kind === 2);

describe('telemetry', () => {
  it('continues an incoming W3C traceparent with one server span named from the route', async () => {
    const traceId = '5f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c';
    const parent = '1a2b3c4d5e6f7a8b';
    const res = await fetch(`${svc.url}/items/42`, {
      headers: { traceparent: `00-${traceId}-${parent}-01`, 'user-agent': 'telemetry-test' },
    });
    expect(res.status).toBe(200);
    const spans = await receiver.waitForSpans((all) => serverSpans(all, traceId).length >= 1);
    const mine = spans.filter((s) => s.traceId === traceId);
    const server = mine.find((s) => s.kind === 2);
    expect(server?.name).toBe('GET /items/:id');
    expect(server?.parentSpanId).toBe(parent);
    expect(server?.scope).toBe('@flotilla/runtime');
    expect(server?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/items/:id',
      'http.response.status_code': 200,
      'url.path': '/items/42',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'network.protocol.version': '1.1',
      'user_agent.original': 'telemetry-test',
    });
    expect(server?.status.code ?? 0).toBe(0);
    // No per-layer spans by default: the express instrumentation is opt-in (it wraps every layer).
    expect(mine).toHaveLength(1);
    expect(server?.resource).toMatchObject({
      'service.name': 'fixture',
      'service.version': '1.4.2',
      'deployment.environment.name': 'dev',
      'deployment.environment': 'dev',
      'k8s.pod.name': 'fixture-5c9d-x2k4q',
      'k8s.namespace.name': 'shop',
      'k8s.node.name': 'ip-10-0-3-7',
      team: 'shop',
    });
    expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);
  });

  it('marks a 5xx server span as failed with the exception, and a 4xx one as not', async () => {
    const boomTrace = '6a3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c';
    const conflictTrace = '6b3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c';
    expect(
      (await fetch(`${svc.url}/boom`, { headers: { traceparent: `00-${boomTrace}-1a2b3c4d5e6f7a8b-01` } }))
        .status,
    ).toBe(500);
    expect(
      (
        await fetch(`${svc.url}/conflict`, {
          headers: { traceparent: `00-${conflictTrace}-1a2b3c4d5e6f7a8b-01` },
        })
      ).status,
    ).toBe(409);
    const spans = await receiver.waitForSpans(
      (all) => serverSpans(all, boomTrace).length >= 1 && serverSpans(all, conflictTrace).length >= 1,
    );
    const boom = serverSpans(spans, boomTrace)[0];
    expect(boom?.name).toBe('GET /boom');
    expect(boom?.status.code).toBe(2); // ERROR
    expect(boom?.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
    expect(boom?.events.find((e) => e.name === 'exception')?.attributes['exception.message']).toContain(
      'database password',
    );
    const conflict = serverSpans(spans, conflictTrace)[0];
    expect(conflict?.attributes['http.response.status_code']).toBe(409);
    expect(conflict?.status.code ?? 0).toBe(0);
    expect(conflict?.events).toEqual([]);
  });

  it.each([
    ['read by the kit', 'c', 'application/json'],
    ['read by body-parser', 'f', 'application/json;charset=utf-8'],
  ])(
    'runs a route with a body %s inside its server span (the body is read asynchronously)',
    async (_how, digit, contentType) => {
      const traceId = `6${digit}3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c`;
      const requestId = `traced-body-${digit}`;
      const res = await fetch(`${svc.url}/orders`, {
        method: 'POST',
        headers: {
          traceparent: `00-${traceId}-1a2b3c4d5e6f7a8b-01`,
          'content-type': contentType,
          'x-request-id': requestId,
        },
        body: JSON.stringify({ sku: 'sku-1', quantity: 2 }),
      });
      expect(res.status).toBe(201);
      const accepted = await svc.waitForLog((l) => l.request_id === requestId && l.msg === 'order accepted');
      const spans = await receiver.waitForSpans((all) => serverSpans(all, traceId).length >= 1);
      const server = serverSpans(spans, traceId)[0];
      expect(server?.name).toBe('POST /orders');
      expect(accepted).toMatchObject({ trace_id: traceId, span_id: server?.spanId });
    },
  );

  it('makes unsampled requests cheap but still correlates their logs', async () => {
    const traceId = '6d3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c';
    // Flag 00: the caller did not sample; parent-based sampling follows it.
    const res = await fetch(`${svc.url}/hello`, {
      headers: { traceparent: `00-${traceId}-1a2b3c4d5e6f7a8b-00`, 'x-request-id': 'unsampled' },
    });
    expect(res.status).toBe(200);
    const line = await svc.waitForLog((l) => l.request_id === 'unsampled' && l.msg === 'request');
    expect(line.trace_id).toBe(traceId);
    // A later sampled request's span arrives; the unsampled one never does.
    const later = '6e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c';
    await fetch(`${svc.url}/hello`, { headers: { traceparent: `00-${later}-1a2b3c4d5e6f7a8b-01` } });
    const spans = await receiver.waitForSpans((all) => serverSpans(all, later).length >= 1);
    expect(spans.some((s) => s.traceId === traceId)).toBe(false);
  });

  it('continues an incoming X-Amzn-Trace-Id', async () => {
    const xray = '1-6745a1b2-0123456789abcdef01234567';
    const parent = '53995c3f42cd8ad8';
    const res = await fetch(`${svc.url}/hello`, {
      headers: { 'x-amzn-trace-id': `Root=${xray};Parent=${parent};Sampled=1` },
    });
    expect(res.status).toBe(200);
    const traceId = '6745a1b20123456789abcdef01234567';
    const spans = await receiver.waitForSpans((all) => serverSpans(all, traceId).length >= 1);
    expect(serverSpans(spans, traceId)[0]?.parentSpanId).toBe(parent);
  });

  it('starts new traces with X-Ray-compatible ids (first 8 hex digits are the epoch seconds)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await fetch(`${svc.url}/items/7`, { headers: { 'x-request-id': 'new-trace' } });
    expect(res.status).toBe(200);
    const line = await svc.waitForLog((l) => l.request_id === 'new-trace' && l.msg === 'request');
    const traceId = String(line.trace_id);
    const spans = await receiver.waitForSpans((all) => serverSpans(all, traceId).length >= 1);
    const root = serverSpans(spans, traceId)[0];
    expect(root?.parentSpanId).toBe('');
    const seconds = parseInt(traceId.slice(0, 8), 16);
    expect(seconds).toBeGreaterThanOrEqual(before - 1);
    expect(seconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1);
  });

  it('links server, client and inner server spans of one trace', async () => {
    const res = await fetch(`${svc.url}/chain`, { headers: { 'x-request-id': 'chain' } });
    expect(await res.json()).toEqual({ inner: { id: '7' } });
    const line = await svc.waitForLog((l) => l.request_id === 'chain' && l.msg === 'request');
    const traceId = String(line.trace_id);
    const spans = await receiver.waitForSpans(
      (all) =>
        serverSpans(all, traceId).length >= 2 && all.some((s) => s.traceId === traceId && s.kind === 3),
    );
    const outer = spans.find((s) => s.traceId === traceId && s.kind === 2 && s.name === 'GET /chain');
    const client = spans.find((s) => s.traceId === traceId && s.kind === 3);
    const inner = spans.find((s) => s.traceId === traceId && s.kind === 2 && s.name === 'GET /items/:id');
    expect(outer?.parentSpanId).toBe('');
    // The client span is made inside the /chain route handler, so it descends from the outer server span.
    const ancestors = new Map(
      spans.filter((s) => s.traceId === traceId).map((s) => [s.spanId, s.parentSpanId]),
    );
    let at = client?.parentSpanId;
    const chain: string[] = [];
    while (at !== undefined && at !== '') {
      chain.push(at);
      at = ancestors.get(at);
    }
    expect(chain).toContain(outer?.spanId);
    expect(inner?.parentSpanId).toBe(client?.spanId);
  });

  it('makes no spans for health probes', async () => {
    for (const path of ['/livez', '/readyz', '/startupz'])
      expect((await fetch(`${svc.url}${path}`)).status).toBe(200);
    await fetch(`${svc.url}/items/1`, { headers: { 'x-request-id': 'after-probes' } });
    const line = await svc.waitForLog((l) => l.request_id === 'after-probes' && l.msg === 'request');
    await receiver.waitForSpans((all) => serverSpans(all, String(line.trace_id)).length >= 1);
    expect(
      receiver.spans.some((s) =>
        ['/livez', '/readyz', '/startupz'].some((p) => s.name.includes(p) || s.attributes['url.path'] === p),
      ),
    ).toBe(false);
  });

  it('exports RED metrics per route: one duration histogram whose count is the rate and 5xx the errors', async () => {
    await fetch(`${svc.url}/items/3`);
    await fetch(`${svc.url}/boom`);
    const metric = 'http.server.request.duration';
    const points = await receiver.waitForPoints(
      (all) =>
        all.some((p) => p.metric === metric && p.attributes['http.route'] === '/boom') &&
        all.some((p) => p.metric === metric && p.attributes['http.route'] === '/items/:id'),
    );
    const items = points.filter((p) => p.metric === metric && p.attributes['http.route'] === '/items/:id');
    expect(items.at(-1)?.attributes).toEqual({
      'http.route': '/items/:id',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
    });
    // A histogram point's value is its count: the requests of that route, method and status.
    expect(items.at(-1)?.value).toBeGreaterThanOrEqual(1);
    const boom = points.filter((p) => p.metric === metric && p.attributes['http.route'] === '/boom');
    expect(boom.at(-1)?.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
    expect(boom.at(-1)?.value).toBeGreaterThanOrEqual(1);
    const errors = points.filter((p) => p.metric === metric && p.attributes['error.type'] !== undefined);
    expect(errors.every((p) => Number(p.attributes['http.response.status_code']) >= 500)).toBe(true);
    expect(points.some((p) => p.metric === 'http.server.requests' || p.metric === 'http.server.errors')).toBe(
      false,
    );
    expect(points[0]?.resource['service.name']).toBe('fixture');
  });

  it('puts trace_id, span_id and the X-Ray trace id on log lines, and redacts secrets', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await fetch(`${svc.url}/log-secrets`, {
      headers: {
        traceparent: `00-${traceId}-b7ad6b7169203331-01`,
        authorization: 'Bearer sekrit-bearer',
        cookie: 'session=sekrit-cookie',
        'x-api-key': 'sekrit-key',
        'x-request-id': 'secrets',
      },
    });
    const line = await svc.waitForLog((l) => l.msg === 'logging secrets');
    expect(line.trace_id).toBe(traceId);
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(line.span_id).not.toBe('b7ad6b7169203331');
    expect(line.xray_trace_id).toBe('1-0af76519-16cd43dd8448eb211c80319c');
    const text = JSON.stringify(line);
    for (const secret of ['sekrit-bearer', 'sekrit-cookie', 'sekrit-key', 'hunter2', 'tkn-123'])
      expect(text).not.toContain(secret);
    expect(line).toMatchObject({
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-api-key': '[redacted]' },
      user: { name: 'ada', password: '[redacted]' },
      token: '[redacted]',
    });
    const access = await svc.waitForLog((l) => l.request_id === 'secrets' && l.msg === 'request');
    expect(access).toMatchObject({ trace_id: traceId, xray_trace_id: '1-0af76519-16cd43dd8448eb211c80319c' });
  });
});

describe('telemetry without the preload', () => {
  it('createService starts the SDK itself; OTEL_NODE_ENABLED_INSTRUMENTATIONS adds express spans', async () => {
    const own = await startOtlpReceiver();
    const child = await startChildService(
      'service.ts',
      baseEnv({
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: own.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http, express',
      }),
    );
    try {
      const traceId = '7e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c';
      await fetch(`${child.url}/items/5`, { headers: { traceparent: `00-${traceId}-1a2b3c4d5e6f7a8b-01` } });
      const spans = await own.waitForSpans((all) => all.filter((s) => s.traceId === traceId).length >= 2);
      const server = spans.find((s) => s.kind === 2);
      expect(server?.name).toBe('GET /items/:id');
      const express = spans.filter((s) => s.scope === '@opentelemetry/instrumentation-express');
      // Only route handlers become spans: no per-middleware spans (cost).
      expect(express).toHaveLength(1);
      expect(express[0]?.name).toMatch(/^request handler/);
      expect(express[0]?.attributes).toMatchObject({
        'express.type': 'request_handler',
        'http.route': '/items/:id',
      });
      expect(express[0]?.parentSpanId).toBe(server?.spanId);
    } finally {
      await child.kill();
      await own.close();
    }
  });
});

describe('OTLP protocol', () => {
  it('exports OTLP/HTTP protobuf by default', async () => {
    const own = await startOtlpReceiver();
    const child = await startChildService(
      'service.ts',
      baseEnv({
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: own.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_METRICS_EXPORTER: 'none',
      }),
      { preload: true },
    );
    try {
      await fetch(`${child.url}/hello`);
      await new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + 5000;
        const poll = () => {
          if (own.contentTypes.includes('application/x-protobuf')) resolve();
          else if (Date.now() > deadline)
            reject(new Error(`no protobuf export; got ${own.contentTypes.join(', ')}`));
          else setTimeout(poll, 20);
        };
        poll();
      });
    } finally {
      await child.kill();
      await own.close();
    }
  });
});
