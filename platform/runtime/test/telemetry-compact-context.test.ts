import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
} from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { loadConfig } from '../src/config/load.js';
import { EMPTY_CONTEXT, CompactContext, CompactContextManager } from '../src/telemetry/compact-context.js';
import { startTelemetry, type Telemetry } from '../src/telemetry/sdk.js';

const A = createContextKey('a');
const B = createContextKey('b');

describe('a compact context', () => {
  it('holds what was set on it and on the contexts it was made from, and changes none of them', () => {
    const one = EMPTY_CONTEXT.setValue(A, 1);
    const two = one.setValue(B, 2);
    const shadowed = two.setValue(A, 'again');

    expect([EMPTY_CONTEXT.getValue(A), EMPTY_CONTEXT.getValue(B)]).toEqual([undefined, undefined]);
    expect([one.getValue(A), one.getValue(B)]).toEqual([1, undefined]);
    expect([two.getValue(A), two.getValue(B)]).toEqual([1, 2]);
    expect([shadowed.getValue(A), shadowed.getValue(B)]).toEqual(['again', 2]);
  });

  it('holds each key once however many contexts were made one from another', () => {
    let ctx: Context = EMPTY_CONTEXT;
    // As a periodic export does, each round under a context made from the round before's.
    for (let round = 0; round < 10_000; round++) ctx = ctx.setValue(A, round).setValue(B, true);
    expect([ctx.getValue(A), ctx.getValue(B)]).toEqual([9999, true]);
    expect((ctx as CompactContext).size).toBe(2);
    expect((ctx.deleteValue(A) as CompactContext).size).toBe(1);
  });

  it('finds a key even where another key holds it as a value', () => {
    const ctx = EMPTY_CONTEXT.setValue(B, A).setValue(A, 'a');
    expect([ctx.getValue(A), ctx.getValue(B)]).toEqual(['a', A]);
    expect((ctx.setValue(A, 'again') as CompactContext).size).toBe(2);
  });

  it('deletes a value for the new context only', () => {
    const set = EMPTY_CONTEXT.setValue(A, 1).setValue(B, 2);
    const deleted = set.deleteValue(A);

    expect([deleted.getValue(A), deleted.getValue(B)]).toEqual([undefined, 2]);
    expect(set.getValue(A)).toBe(1);
    // A value set again after a delete is seen again.
    expect(deleted.setValue(A, 3).getValue(A)).toBe(3);
  });

  it('carries spans and the trace context the propagators extract and inject', () => {
    const propagator = new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new AWSXRayPropagator()],
    });
    const traceparent = '00-5f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c-1a2b3c4d5e6f7a8b-01';
    const extracted = propagator.extract(EMPTY_CONTEXT, { traceparent }, headerGetter);

    expect(extracted).toBeInstanceOf(CompactContext);
    expect(trace.getSpanContext(extracted)).toMatchObject({
      traceId: '5f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c',
      spanId: '1a2b3c4d5e6f7a8b',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const carrier: Record<string, string> = {};
    propagator.inject(extracted, carrier, { set: (c, k, v) => (c[k] = v) });
    expect(carrier).toMatchObject({
      traceparent,
      'x-amzn-trace-id': 'Root=1-5f3a2b1c-0d9e8f7a6b5c4d3e2f1a0b9c;Parent=1a2b3c4d5e6f7a8b;Sampled=1',
    });

    const child = trace.wrapSpanContext({ ...trace.getSpanContext(extracted)!, spanId: 'aaaaaaaaaaaaaaaa' });
    const withChild = trace.setSpan(extracted, child);
    expect(trace.getSpan(withChild)).toBe(child);
    expect(trace.getSpan(trace.deleteSpan(withChild))).toBeUndefined();
  });
});

const headerGetter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};

describe('the compact context manager', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new CompactContextManager().enable());
  });
  afterAll(() => {
    context.disable();
    propagation.disable();
  });

  it('reports the empty compact context when nothing is active, so every context made from it is compact', () => {
    expect(context.active()).toBe(EMPTY_CONTEXT);
    expect(context.active().setValue(A, 1)).toBeInstanceOf(CompactContext);
  });

  it('keeps the active context across awaits and timers, and restores the one before', async () => {
    const outer = EMPTY_CONTEXT.setValue(A, 'request');
    const seen: unknown[] = [];
    await context.with(outer, async () => {
      seen.push(context.active().getValue(A));
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(context.active().getValue(A));
      context.with(context.active().setValue(B, 'call'), () => seen.push(context.active().getValue(B)));
      seen.push(context.active().getValue(B));
    });
    expect(seen).toEqual(['request', 'request', 'call', undefined]);
    expect(context.active()).toBe(EMPTY_CONTEXT);
  });

  it('still runs code given the API root context in it', () => {
    const inRoot: Context = context.with(ROOT_CONTEXT, () => context.active());
    expect(inRoot).toBe(EMPTY_CONTEXT);
    const set = ROOT_CONTEXT.setValue(A, 1);
    expect(context.with(set, () => context.active().getValue(A))).toBe(1);
  });
});

describe("the kit's SDK", () => {
  let telemetry: Telemetry;
  beforeAll(() => {
    const env = {
      SERVICE_NAME: 'compact',
      PORT: '0',
      FLOTILLA_ENVIRONMENT: 'local',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
    };
    const config = loadConfig({}, env);
    telemetry = startTelemetry(config.telemetry);
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('makes every context of a service a compact one, from the empty context', () => {
    expect(context.active()).toBe(EMPTY_CONTEXT);
    const inSpan = trace.getTracer('test').startActiveSpan('work', (span) => {
      span.end();
      return context.active();
    });
    expect(inSpan).toBeInstanceOf(CompactContext);
    expect(trace.getSpan(inSpan)?.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
