/**
 * Trace ids for the peers' log lines: a pino `mixin` that adds the active span's `trace_id` and `span_id`
 * (the keys the kit's lines carry), the way a team adds them to pino without the pino instrumentation.
 */
import { trace } from '@opentelemetry/api';

export function traceFields(): { trace_id?: string; span_id?: string } {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx === undefined ? {} : { trace_id: ctx.traceId, span_id: ctx.spanId };
}
