import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { peerUrlVar } from '@flotilla/model';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import { createServiceClients, requestContext, type ServiceClients } from '../src/client/index.js';
import { json, reset, startPeer, type TestPeer } from './support/client-peer.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager();
const log = pino({ level: 'silent' });
let peer: TestPeer;
let clients: ServiceClients;

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // The first attempt of each call is reset, the second succeeds: two attempts per call.
  peer = await startPeer((req, res, n) => (n % 2 === 1 ? reset(req) : json(res, 200, { ok: true })));
  clients = createServiceClients({
    env: { [peerUrlVar('inventory')]: peer.url },
    log,
    defaults: { timeoutMs: 300, retry: { initialDelayMs: 1, maxDelayMs: 5 } },
  });
});

afterEach(() => exporter.reset());

afterAll(async () => {
  await peer.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('trace context and request id on service calls', () => {
  it('makes each attempt a CLIENT span under one call span, inside the caller’s trace, and sends traceparent', async () => {
    const tracer = trace.getTracer('test');
    const before = peer.requests.length;
    await tracer.startActiveSpan('handle POST /orders', async (root) => {
      await clients.client('inventory').get('/stock/a1', { route: '/stock/{sku}' });
      root.end();
    });

    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'handle POST /orders')!;
    const call = spans.find((s) => s.name === 'call inventory GET /stock/{sku}')!;
    const attempts = spans.filter((s) => s.name === 'GET inventory /stock/{sku}');
    expect(call).toBeDefined();
    expect(call.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(call.attributes['flotilla.attempts']).toBe(2);
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      expect(a.kind).toBe(SpanKind.CLIENT);
      expect(a.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(a.parentSpanContext?.spanId).toBe(call.spanContext().spanId);
      expect(a.attributes['http.request.method']).toBe('GET');
      expect(a.attributes['server.address']).toBe('127.0.0.1');
      expect(a.attributes['url.full']).toBe(`${peer.url}/stock/a1`);
    }
    const [first, second] = [...attempts].sort(
      (x, y) => Number(x.attributes['flotilla.attempt']) - Number(y.attributes['flotilla.attempt']),
    );
    expect(first!.attributes['flotilla.attempt']).toBe(1);
    expect(first!.status.code).toBe(SpanStatusCode.ERROR);
    expect(first!.attributes['http.response.status_code']).toBeUndefined();
    expect(second!.attributes['flotilla.attempt']).toBe(2);
    expect(second!.attributes['http.response.status_code']).toBe(200);

    // Each attempt's traceparent names that attempt's span as the parent of the peer's work.
    const sent = peer.requests.slice(before).map((r) => r.headers.traceparent);
    expect(sent).toEqual(
      [first!, second!].map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`),
    );
  });

  it('forwards the request id from requestContext (set by the HTTP layer) on every attempt', async () => {
    const before = peer.requests.length;
    await requestContext.run({ requestId: 'req-42' }, () => clients.client('inventory').get('/stock/a1'));
    const ids = peer.requests.slice(before).map((r) => r.headers['x-request-id']);
    expect(ids).toEqual(['req-42', 'req-42']);
  });

  it('prefers a request id passed to the call, and sends none when there is none', async () => {
    const before = peer.requests.length;
    await requestContext.run({ requestId: 'req-outer' }, () =>
      clients.client('inventory').get('/x', { requestId: 'req-explicit' }),
    );
    await clients.client('inventory').get('/y');
    const ids = peer.requests.slice(before).map((r) => r.headers['x-request-id']);
    expect(ids).toEqual(['req-explicit', 'req-explicit', undefined, undefined]);
  });

  it('takes the request id from the requestId option of createServiceClients', async () => {
    const custom = createServiceClients({
      env: { [peerUrlVar('inventory')]: peer.url },
      log,
      requestId: () => 'from-hook',
      defaults: { retry: { initialDelayMs: 1, maxDelayMs: 5 } },
    });
    const before = peer.requests.length;
    await custom.client('inventory').get('/z');
    expect(peer.requests.slice(before).map((r) => r.headers['x-request-id'])).toEqual([
      'from-hook',
      'from-hook',
    ]);
  });

  it('marks the call span as failed with the error type when the call fails', async () => {
    const failing = await startPeer((_req, res) => json(res, 404, { title: 'Unknown SKU' }));
    try {
      const c = createServiceClients({ env: { [peerUrlVar('inventory')]: failing.url }, log });
      await expect(c.client('inventory').get('/stock/zz')).rejects.toThrow('404 Unknown SKU');
      const call = exporter.getFinishedSpans().find((s) => s.name === 'call inventory GET /stock/zz')!;
      expect(call.status.code).toBe(SpanStatusCode.ERROR);
      expect(call.attributes['error.type']).toBe('404');
      const attempt = exporter.getFinishedSpans().find((s) => s.name === 'GET inventory /stock/zz')!;
      expect(attempt.attributes['http.response.status_code']).toBe(404);
    } finally {
      await failing.close();
    }
  });
});
