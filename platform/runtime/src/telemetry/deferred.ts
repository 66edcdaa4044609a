/**
 * Work a request leaves for later — a compensation retried by a background worker, a clean-up after a
 * crash — belongs to that request's trace: whoever reads the trace of a failed order should see its stock
 * being given back, and an operator's list of traces should not fill with one root per retry. The request
 * saves its trace context with the row that describes the work ({@link captureTrace}); whoever does the
 * work later runs it in a span of that trace ({@link resumeTrace}).
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { errorMessage } from '../kit.js';
import { extractTraceContext, traceHeaders } from '../messaging/attributes.js';

/** The W3C trace context of a request, as stored beside the work it leaves for later. */
export interface SavedTrace {
  /** W3C `traceparent` of the span that left the work. */
  readonly traceparent?: string;
  /** W3C `tracestate` that came with it. */
  readonly tracestate?: string;
}

const tracer = trace.getTracer('@flotilla/runtime');

/** The trace context of the active span (empty when there is none, or telemetry is off). */
export function captureTrace(): SavedTrace {
  return traceHeaders(context.active());
}

/**
 * Runs `work` in an INTERNAL span named `name` that continues the saved trace (a child of the span that
 * saved it), or starts a trace of its own when nothing was saved. The span ends when `work` settles and is
 * marked as an error when it throws.
 */
export async function resumeTrace<T>(
  saved: SavedTrace | null | undefined,
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  const carrier: Record<string, string> = {};
  if (saved?.traceparent) carrier.traceparent = saved.traceparent;
  if (saved?.tracestate) carrier.tracestate = saved.tracestate;
  const parent = extractTraceContext(carrier);
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
    throw err;
  } finally {
    span.end();
  }
}
