/**
 * Traces assembled from spans as they arrive, and their text rendering: compact lines, one per span,
 * indented by depth. The HTML pages are in ./trace-page.ts.
 */
import type { SpanRecord } from './otlp.js';

/** A trace and when its last span arrived. */
export interface Trace {
  readonly traceId: string;
  readonly spans: SpanRecord[];
  lastSpanAt: number;
  /** How many of its spans have been printed already. */
  printed: number;
}

/** A span with its depth in the trace tree, in display order (parents before children, by start time). */
export interface PlacedSpan {
  readonly span: SpanRecord;
  readonly depth: number;
}

/** Orders a trace's spans as a tree; spans whose parent has not arrived are shown as roots. */
export function placeSpans(spans: readonly SpanRecord[]): PlacedSpan[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const s of spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const out: PlacedSpan[] = [];
  const visit = (s: SpanRecord, depth: number): void => {
    out.push({ span: s, depth });
    for (const c of (children.get(s.spanId) ?? []).sort((a, b) => a.startMs - b.startMs)) visit(c, depth + 1);
  };
  for (const r of roots.sort((a, b) => a.startMs - b.startMs)) visit(r, 0);
  return out;
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function statusText(s: SpanRecord): string {
  if (s.status === 'error') return `ERROR${s.statusMessage ? ` ${s.statusMessage}` : ''}`;
  return s.status === 'ok' ? 'OK' : '-';
}

/**
 * Text lines for a trace: a header, then one line per span: indentation by depth, service, span name,
 * duration, status. With `fromIndex` > 0 only the spans from that index on (those that arrived after an
 * earlier print) are listed, under a header that marks them as a continuation.
 */
export function formatTrace(trace: Trace, fromIndex = 0): string[] {
  const placed = placeSpans(trace.spans);
  const fresh = new Set(trace.spans.slice(fromIndex).map((s) => s.spanId));
  const start = Math.min(...trace.spans.map((s) => s.startMs));
  const end = Math.max(...trace.spans.map((s) => s.endMs));
  const errors = trace.spans.filter((s) => s.status === 'error').length;
  const head =
    `trace ${trace.traceId.slice(0, 8)} · ${trace.spans.length} span${trace.spans.length === 1 ? '' : 's'} · ${formatDuration(end - start)}` +
    (errors ? ` · ${errors} error${errors === 1 ? '' : 's'}` : '') +
    (fromIndex > 0 ? ` · +${trace.spans.length - fromIndex} late` : '');
  const rows = placed
    .filter((p) => fresh.has(p.span.spanId))
    .map(({ span, depth }) => {
      const left = `${'  '.repeat(depth + 1)}${span.service} ${span.name}`;
      return `${left.padEnd(56)} ${formatDuration(span.endMs - span.startMs).padStart(9)}  ${statusText(span)}`;
    });
  return [head, ...rows];
}
