import { isSpanContextValid, trace, type SpanContext } from '@opentelemetry/api';

/** Trace correlation fields every log line carries. */
export interface TraceFields {
  readonly trace_id: string;
  readonly span_id: string;
  /** The X-Ray form of the trace id, `1-<8 hex epoch seconds>-<24 hex>`, so X-Ray and CloudWatch can join logs. */
  readonly xray_trace_id: string;
}

/**
 * Converts a W3C trace id (32 hex) to the X-Ray form `1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy`.
 * @see https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids
 */
export function toXrayTraceId(traceId: string): string {
  return `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;
}

/** Fields of a span context, or undefined when it is not valid (no tracing active). */
export function traceFieldsOf(ctx: SpanContext | undefined): TraceFields | undefined {
  if (ctx === undefined || !isSpanContextValid(ctx)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId, xray_trace_id: toXrayTraceId(ctx.traceId) };
}

/** Fields of the active span, if any. */
export function activeTraceFields(): TraceFields | undefined {
  return traceFieldsOf(trace.getActiveSpan()?.spanContext());
}
