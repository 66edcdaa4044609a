/**
 * The three rules of ../src/telemetry/messaging.ts one by one, with the SDK's own sampler, propagators and
 * an in-memory exporter (the child-process test, core-telemetry-messaging.test.ts, shows them together).
 */
import { describe, expect, it } from '@jest/globals';
import {
  context,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
  type Attributes,
} from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  KeepMessageTraceContext,
  linkBatchToMessageTraces,
  MessagingHousekeepingSampler,
} from '../src/telemetry/messaging.js';

const sqs = (method: string): Attributes => ({
  'rpc.system': 'aws-api',
  'rpc.service': 'SQS',
  'rpc.method': method,
});
const parent = (flags: TraceFlags) =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: flags,
    isRemote: true,
  });

describe('MessagingHousekeepingSampler', () => {
  const sampler = new MessagingHousekeepingSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() }));
  const decide = (ctx: typeof ROOT_CONTEXT, attributes: Attributes, kind = SpanKind.CLIENT) =>
    sampler.shouldSample(ctx, '0af7651916cd43dd8448eb211c80319c', 'x', kind, attributes, []).decision;

  it('records no root span of a poll or a housekeeping call', () => {
    for (const method of [
      'ReceiveMessage',
      'DeleteMessage',
      'DeleteMessageBatch',
      'ChangeMessageVisibility',
      'ChangeMessageVisibilityBatch',
    ])
      expect([method, decide(ROOT_CONTEXT, sqs(method))]).toEqual([method, SamplingDecision.NOT_RECORD]);
    // nor one whose parent was not sampled (a poll's own context, for a later delete)
    expect(decide(parent(TraceFlags.NONE), sqs('DeleteMessageBatch'))).toBe(SamplingDecision.NOT_RECORD);
  });

  it('records them inside a sampled trace, and leaves every other span to the configured sampler', () => {
    expect(decide(parent(TraceFlags.SAMPLED), sqs('ChangeMessageVisibility'))).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(ROOT_CONTEXT, sqs('SendMessageBatch'))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(ROOT_CONTEXT, { 'http.request.method': 'GET' }, SpanKind.SERVER)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(ROOT_CONTEXT, { ...sqs('ReceiveMessage'), 'rpc.service': 'SNS' })).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });
});

describe('KeepMessageTraceContext', () => {
  const propagator = new KeepMessageTraceContext(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new AWSXRayPropagator()] }),
  );
  const active = parent(TraceFlags.SAMPLED);

  it("leaves a message's own trace context alone", () => {
    const own = {
      DataType: 'String',
      StringValue: '00-11111111111111111111111111111111-2222222222222222-01',
    };
    const attributes: Record<string, unknown> = {
      type: { DataType: 'String', StringValue: 'job.run' },
      traceparent: own,
    };
    propagator.inject(active, attributes, defaultTextMapSetter);
    expect(attributes).toEqual({ type: { DataType: 'String', StringValue: 'job.run' }, traceparent: own });
  });

  it('injects into HTTP headers and into messages without trace context as before', () => {
    const headers: Record<string, string> = { traceparent: 'stale' };
    propagator.inject(active, headers, defaultTextMapSetter);
    expect(headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const attributes: Record<string, unknown> = {};
    propagator.inject(active, attributes, defaultTextMapSetter);
    expect(attributes.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });
});

describe('linkBatchToMessageTraces', () => {
  it("links a batch call to each message's producer span in another trace, once each", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const span = provider.getTracer('test').startSpan('SendMessageBatch', {}, ROOT_CONTEXT);
    const own = span.spanContext().traceId;
    const attributes = (traceparent: string) => ({
      traceparent: { DataType: 'String', StringValue: traceparent },
    });
    const other = '00-11111111111111111111111111111111-2222222222222222-01';
    const entries = [
      { Id: '0', MessageAttributes: attributes(other) },
      { Id: '1', MessageAttributes: attributes(other) }, // the same producer twice: one link
      { Id: '2', MessageAttributes: attributes(`00-${own}-3333333333333333-01`) }, // its own trace: no link
      { Id: '3' }, // no trace context
    ];
    context.with(ROOT_CONTEXT, () =>
      linkBatchToMessageTraces(span, {
        request: { serviceName: 'SQS', commandName: 'SendMessageBatch', commandInput: { Entries: entries } },
      }),
    );
    span.end();
    await provider.forceFlush();
    const [finished] = exporter.getFinishedSpans();
    expect(finished!.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      ['11111111111111111111111111111111', '2222222222222222'],
    ]);
  });
});
