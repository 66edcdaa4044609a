/**
 * Traces assembled from spans as they arrive, and their two renderings: compact text lines (one per
 * span, indented by depth) and an HTML waterfall.
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
interface PlacedSpan {
  readonly span: SpanRecord;
  readonly depth: number;
}

/** Orders a trace's spans as a tree; spans whose parent has not arrived are shown as roots. */
function placeSpans(spans: readonly SpanRecord[]): PlacedSpan[] {
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

function formatDuration(ms: number): string {
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

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The /traces page: the most recent traces, newest first, each a waterfall of its spans. */
export function renderTracesPage(traces: readonly Trace[]): string {
  const sections = traces.map((t) => {
    const placed = placeSpans(t.spans);
    const start = Math.min(...t.spans.map((s) => s.startMs));
    const total = Math.max(Math.max(...t.spans.map((s) => s.endMs)) - start, 0.001);
    const root = placed[0]!.span;
    const failed = t.spans.some((s) => s.status === 'error');
    const rows = placed
      .map(({ span, depth }) => {
        const left = ((span.startMs - start) / total) * 100;
        const width = Math.max(((span.endMs - span.startMs) / total) * 100, 0.3);
        const attrs = Object.entries(span.attributes)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join('\n');
        return (
          `<div class="row${span.status === 'error' ? ' err' : ''}" title="${escape(attrs)}">` +
          `<div class="label" style="padding-left:${depth * 14}px"><b>${escape(span.service)}</b> ${escape(span.name)}</div>` +
          `<div class="track"><div class="bar" style="left:${left.toFixed(3)}%;width:${width.toFixed(3)}%"></div></div>` +
          `<div class="dur">${formatDuration(span.endMs - span.startMs)}${span.status === 'error' ? ` ✗ ${escape(span.statusMessage ?? '')}` : ''}</div></div>`
        );
      })
      .join('');
    return (
      `<details open><summary${failed ? ' class="err"' : ''}><code>${t.traceId}</code> <b>${escape(root.service)}</b> ${escape(root.name)} · ` +
      `${t.spans.length} spans · ${formatDuration(total)} · ${new Date(start).toISOString().slice(11, 23)}</summary>${rows}</details>`
    );
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>Flotilla traces</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px}summary{cursor:pointer;padding:4px 0}summary.err{color:#b00020}
.row{display:grid;grid-template-columns:minmax(260px,34%) 1fr 140px;gap:8px;align-items:center;padding:1px 0}
.row:hover{background:#f3f3f3}.label{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.track{position:relative;height:12px;background:#f7f7f7}.bar{position:absolute;top:0;height:12px;background:#3b7dd8;border-radius:2px}
.err .bar{background:#d33}.err .dur{color:#b00020}.dur{font-variant-numeric:tabular-nums;text-align:right}
code{color:#666}details{border-bottom:1px solid #eee;padding:4px 0}
</style></head><body><h1>Flotilla traces</h1><p>${traces.length} most recent traces, newest first. <a href="/traces">Refresh</a> · <a href="/api/traces">JSON</a> · hover a span for its attributes.</p>
${sections.join('\n') || '<p>No traces yet. Send a request through the gateway.</p>'}
</body></html>`;
}
