/**
 * The local trace page (`make dev`: http://localhost:4318/traces). The list shows recent traces by their
 * root, the request (method and route) or the event that started them, newest first, filtered by service
 * and by errors (`?service=payments&errors=1`: a plain GET form, so a filtered view is a link). A trace's
 * page (`/traces/<trace id>`) shows its spans as a waterfall, each with its service, duration and, opened,
 * its attributes; and the traces it links to (a batch call that carried messages of other traces).
 */
import type { AttributeValue, SpanRecord } from './otlp.js';
import { formatDuration, placeSpans, type Trace } from './traces.js';

/** OTLP SpanKind values. */
const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const SERVER = 2;
const CONSUMER = 5;

/** What the list shows of one trace. */
export interface TraceSummary {
  readonly traceId: string;
  /** What started the trace: `POST /api/orders`, or `event order.placed`. */
  readonly title: string;
  /** The service of its root span. */
  readonly service: string;
  /** Every service with a span in the trace, in the order they joined it. */
  readonly services: readonly string[];
  readonly spans: number;
  readonly errors: number;
  /** Start of its earliest span (ms since the epoch). */
  readonly startMs: number;
  readonly durationMs: number;
}

/** Which traces the list shows. */
export interface TraceFilter {
  /** Only traces with a span of this service. @default - every service */
  readonly service?: string;
  /** Only traces with a failed span. @default false */
  readonly errorsOnly?: boolean;
}

/** The filter of a `/traces` or `/api/traces` query string. */
export function filterFromQuery(query: URLSearchParams): TraceFilter {
  const service = query.get('service') ?? '';
  return {
    ...(service ? { service } : {}),
    ...(['1', 'true', 'on'].includes(query.get('errors') ?? '') ? { errorsOnly: true } : {}),
  };
}

/** The name a person knows a trace by, from its root span: the route it served, or the event it handled. */
export function titleOf(root: SpanRecord): string {
  const a = root.attributes;
  if (
    root.kind === SERVER &&
    typeof a['http.request.method'] === 'string' &&
    typeof a['http.route'] === 'string'
  )
    return `${a['http.request.method']} ${a['http.route']}`;
  if (root.kind === CONSUMER && typeof a['flotilla.event.type'] === 'string')
    return `event ${a['flotilla.event.type']}`;
  return root.name;
}

export function summarize(trace: Trace): TraceSummary {
  const placed = placeSpans(trace.spans);
  const root = placed[0]!.span;
  const startMs = Math.min(...trace.spans.map((s) => s.startMs));
  const endMs = Math.max(...trace.spans.map((s) => s.endMs));
  const byStart = [...trace.spans].sort((a, b) => a.startMs - b.startMs);
  return {
    traceId: trace.traceId,
    title: titleOf(root),
    service: root.service,
    services: [...new Set(byStart.map((s) => s.service))],
    spans: trace.spans.length,
    errors: trace.spans.filter((s) => s.status === 'error').length,
    startMs,
    durationMs: endMs - startMs,
  };
}

/** The traces `filter` keeps, newest (by start) first. */
export function selectTraces(traces: readonly Trace[], filter: TraceFilter): Trace[] {
  return traces
    .filter((t) => t.spans.length > 0)
    .filter((t) => !filter.service || t.spans.some((s) => s.service === filter.service))
    .filter((t) => !filter.errorsOnly || t.spans.some((s) => s.status === 'error'))
    .sort((a, b) => Math.min(...b.spans.map((s) => s.startMs)) - Math.min(...a.spans.map((s) => s.startMs)));
}

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Well-separated hues, handed to services in name order: the four services of a small system never share one. */
const HUES = [212, 330, 32, 145, 268, 186, 4, 58, 100, 295];

/** A colour per service: the same for a service in the list and in every waterfall of the page's data. */
export type Palette = (service: string) => number;

/** The palette of a set of traces: services in name order take the hues in turn. */
export function paletteOf(traces: readonly Trace[]): Palette {
  const services = [...new Set(traces.flatMap((t) => t.spans.map((s) => s.service)))].sort();
  return (service) => HUES[Math.max(services.indexOf(service), 0) % HUES.length]!;
}

const chip =
  (palette: Palette) =>
  (service: string): string =>
    `<span class="chip" style="--h:${palette(service)}">${escape(service)}</span>`;
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
const attributeText = (v: AttributeValue): string => (typeof v === 'string' ? v : JSON.stringify(v));

const STYLE = `
:root{color-scheme:light}
body{font:13px/1.45 system-ui,sans-serif;margin:0;color:#1d232b;background:#f6f7f9}
header{background:#1d232b;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
header h1{font-size:16px;margin:0;font-weight:600}header a{color:#9cc4ff}
form{display:flex;gap:10px;align-items:center}select,button{font:inherit;padding:2px 6px}
main{padding:14px 20px}.note{color:#5c6670;margin:0 0 10px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e6}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eceef1;vertical-align:top}
th{font-weight:600;color:#5c6670;background:#fafbfc}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.trace:hover{background:#f3f7ff}tr.trace a{color:#0b57d0;text-decoration:none;font-weight:600}
.sub{color:#6b7580;font-size:12px}code{color:#6b7580;font-size:12px}
.chip{display:inline-block;padding:0 7px;margin:1px 3px 1px 0;border-radius:9px;font-size:12px;
  background:hsl(var(--h) 70% 92%);color:hsl(var(--h) 60% 28%);border:1px solid hsl(var(--h) 50% 80%)}
.err{color:#b00020}.badge{display:inline-block;min-width:62px;font-size:11px;color:#6b7580}
.waterfall{background:#fff;border:1px solid #dde1e6}
.span>summary{display:grid;grid-template-columns:minmax(320px,38%) 1fr 110px;gap:10px;align-items:center;
  padding:3px 10px;cursor:pointer;list-style:none;border-bottom:1px solid #f0f1f3}
.span>summary::-webkit-details-marker{display:none}.span>summary:hover{background:#f3f7ff}
.label{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.track{position:relative;height:12px;background:#f2f3f5;border-radius:2px}
.bar{position:absolute;top:0;height:12px;border-radius:2px;background:hsl(var(--h) 60% 52%)}
.span.failed .bar{background:#d33}.dur{text-align:right;font-variant-numeric:tabular-nums}
.attrs{margin:4px 10px 10px 40px;width:auto;min-width:50%}.attrs th{width:260px;font-weight:500}
.attrs td{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
`;

function page(title: string, header: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title><style>${STYLE}</style></head>
<body><header><h1>Flotilla traces</h1>${header}</header><main>${body}</main></body></html>`;
}

/** The list page: every kept trace `filter` selects, by its root, with the filter form. */
export function renderTraceList(traces: readonly Trace[], filter: TraceFilter = {}): string {
  const shown = selectTraces(traces, filter);
  const chipOf = chip(paletteOf(traces));
  const params = new URLSearchParams({
    ...(filter.service ? { service: filter.service } : {}),
    ...(filter.errorsOnly ? { errors: '1' } : {}),
  }).toString();
  const query = params ? `?${escape(params)}` : '';
  const services = [...new Set(traces.flatMap((t) => t.spans.map((s) => s.service)))].sort();
  if (filter.service && !services.includes(filter.service)) services.push(filter.service);
  const options = [`<option value="">All services</option>`]
    .concat(
      services.map(
        (s) => `<option value="${escape(s)}"${s === filter.service ? ' selected' : ''}>${escape(s)}</option>`,
      ),
    )
    .join('');
  const form =
    `<form method="get" action="/traces" id="filters"><label>Service <select name="service" onchange="this.form.submit()">${options}</select></label>` +
    `<label><input type="checkbox" name="errors" value="1"${filter.errorsOnly ? ' checked' : ''} onchange="this.form.submit()"> Errors only</label>` +
    `<button type="submit">Apply</button></form>` +
    `<a href="/traces${query}">Refresh</a><a href="/api/traces${query}">JSON</a>`;
  const rows = shown.map((t) => {
    const s = summarize(t);
    return (
      `<tr class="trace${s.errors ? ' failed' : ''}" data-trace-id="${s.traceId}">` +
      `<td><a href="/traces/${s.traceId}">${escape(s.title)}</a><div class="sub">${escape(s.service)} · <code>${s.traceId}</code></div></td>` +
      `<td>${s.services.map(chipOf).join('')}</td>` +
      `<td class="num">${s.spans}</td><td class="num">${formatDuration(s.durationMs)}</td>` +
      `<td class="num">${clock(s.startMs)}</td>` +
      `<td class="num${s.errors ? ' err' : ''}">${s.errors ? `${s.errors} ✗` : ''}</td></tr>`
    );
  });
  const filtered = filter.service || filter.errorsOnly;
  const note = filtered
    ? `${shown.length} of ${traces.length} traces${filter.service ? ` with a span of ${escape(filter.service)}` : ''}${filter.errorsOnly ? ' with errors' : ''}, newest first.`
    : `${traces.length} most recent traces, newest first. Open one for its spans and their attributes.`;
  const table =
    rows.length > 0
      ? `<table id="traces"><thead><tr><th>Trace (what started it)</th><th>Services</th><th class="num">Spans</th><th class="num">Duration</th><th class="num">Started (UTC)</th><th class="num">Errors</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
      : `<p class="note" id="empty">${traces.length === 0 ? 'No traces yet. Send a request through the gateway.' : 'No trace matches the filter.'}</p>`;
  return page('Flotilla traces', form, `<p class="note">${note}</p>${table}`);
}

/**
 * A trace's page: its spans as a waterfall; each span opens to its attributes. `palette` colours services
 * as the list does.
 */
export function renderTraceDetail(trace: Trace, palette: Palette = paletteOf([trace])): string {
  const s = summarize(trace);
  const placed = placeSpans(trace.spans);
  const total = Math.max(s.durationMs, 0.001);
  const rows = placed.map(({ span, depth }, i) => {
    const left = ((span.startMs - s.startMs) / total) * 100;
    const width = Math.max(((span.endMs - span.startMs) / total) * 100, 0.3);
    const facts: [string, string][] = [
      ['span kind', KIND_NAMES[span.kind] ?? String(span.kind)],
      ['span id', span.spanId],
      ['parent span id', span.parentSpanId ?? '(root)'],
      ['status', span.status + (span.statusMessage ? `: ${span.statusMessage}` : '')],
      ...Object.entries(span.attributes).map(([k, v]): [string, string] => [k, attributeText(v)]),
    ];
    const links = (span.links ?? [])
      .map(
        (l) =>
          `<tr><th>link</th><td><a href="/traces/${l.traceId}">trace ${l.traceId}</a> span ${l.spanId}</td></tr>`,
      )
      .join('');
    return (
      `<details class="span${span.status === 'error' ? ' failed' : ''}" data-span-id="${span.spanId}" data-service="${escape(span.service)}"${i === 0 ? ' open' : ''}>` +
      `<summary style="--h:${palette(span.service)}"><div class="label" style="padding-left:${depth * 16}px">` +
      `<span class="badge">${KIND_NAMES[span.kind] ?? ''}</span><b>${escape(span.service)}</b> ${escape(span.name)}</div>` +
      `<div class="track"><div class="bar" style="left:${left.toFixed(3)}%;width:${width.toFixed(3)}%"></div></div>` +
      `<div class="dur${span.status === 'error' ? ' err' : ''}">${formatDuration(span.endMs - span.startMs)}${span.status === 'error' ? ' ✗' : ''}</div></summary>` +
      `<table class="attrs">${facts.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}${links}</table></details>`
    );
  });
  const header = `<a href="/traces">← All traces</a>`;
  const body =
    `<h2 id="title">${escape(s.title)}</h2>` +
    `<p class="note">trace <code>${s.traceId}</code> · ${s.spans} spans · ${formatDuration(s.durationMs)} · started ${clock(s.startMs)} UTC` +
    `${s.errors ? ` · <span class="err">${s.errors} failed</span>` : ''} · ${s.services.map(chip(palette)).join('')}</p>` +
    `<p class="note">Click a span for its attributes.</p><div class="waterfall" id="spans">${rows.join('')}</div>`;
  return page(`${s.title} · Flotilla traces`, header, body);
}
