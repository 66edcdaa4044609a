import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { captureTrace, resumeTrace } from '../src/telemetry/index.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});
afterEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const tracer = trace.getTracer('test');
const spanNamed = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name)!;

describe('work a request leaves for later', () => {
  it('is traced in the trace of the request that saved it, as a child of its span, long after it ended', async () => {
    const saved = tracer.startActiveSpan('POST /api/orders', (request) => {
      const out = captureTrace();
      request.end();
      return out;
    });
    expect(saved.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const result = await resumeTrace(saved, 'release reservation', async () => {
      tracer.startSpan('call inventory').end();
      return 'released';
    });

    expect(result).toBe('released');
    const request = spanNamed('POST /api/orders');
    const resumed = spanNamed('release reservation');
    expect(resumed.kind).toBe(SpanKind.INTERNAL);
    expect(resumed.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(resumed.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    // Work done inside continues the same trace, under the resumed span.
    expect(spanNamed('call inventory').parentSpanContext?.spanId).toBe(resumed.spanContext().spanId);
  });

  it('starts a trace of its own when nothing was saved (no active span, or telemetry off)', async () => {
    expect(captureTrace()).toEqual({});
    await resumeTrace({}, 'sweep', async () => undefined);
    await resumeTrace(null, 'sweep again', async () => undefined);
    expect(spanNamed('sweep').parentSpanContext).toBeUndefined();
    expect(spanNamed('sweep again').parentSpanContext).toBeUndefined();
  });

  it('marks the span as failed and rethrows when the work throws', async () => {
    await expect(
      resumeTrace({}, 'doomed', async () => {
        throw new Error('inventory is down');
      }),
    ).rejects.toThrow('inventory is down');
    expect(spanNamed('doomed').status).toEqual({ code: SpanStatusCode.ERROR, message: 'inventory is down' });
  });
});
