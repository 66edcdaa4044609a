/**
 * A tiny OTLP/HTTP receiver for tests: collects what an exporter sends with
 * OTEL_EXPORTER_OTLP_PROTOCOL=http/json to `<url>/v1/traces` and `<url>/v1/metrics`, and flattens it.
 * Protobuf bodies are answered 415 (use the JSON protocol in tests).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An OTLP attribute value as a plain value. */
export type AttrValue = string | number | boolean | null | AttrValue[];

/** One received span, flattened. */
export interface ReceivedSpan {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  /** Empty string for a root span. */
  readonly parentSpanId: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, AttrValue>>;
  readonly resource: Readonly<Record<string, AttrValue>>;
  readonly scope: string;
  readonly status: { readonly code?: number; readonly message?: string };
  /** Span events (an `exception` event per recorded exception). */
  readonly events: readonly {
    readonly name: string;
    readonly attributes: Readonly<Record<string, AttrValue>>;
  }[];
  /** Span links: other spans (usually of other traces) this one is causally related to. */
  readonly links: readonly {
    readonly traceId: string;
    readonly spanId: string;
    readonly attributes: Readonly<Record<string, AttrValue>>;
  }[];
}

/** One received metric data point, flattened. */
export interface ReceivedPoint {
  readonly metric: string;
  readonly attributes: Readonly<Record<string, AttrValue>>;
  /** Sum/gauge value, or histogram count. */
  readonly value: number;
  readonly resource: Readonly<Record<string, AttrValue>>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpValue;
}

function valueOf(v: OtlpValue | undefined): AttrValue {
  if (v === undefined) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return null;
}

function attrs(list: OtlpKeyValue[] | undefined): Record<string, AttrValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly points: ReceivedPoint[];
  /** Content types of the requests received (to check the protocol). */
  readonly contentTypes: string[];
  /** Spans in each trace export request, in the order received (to check the batch sizes). */
  readonly spansPerExport: number[];
  /** Resolves with the spans once `predicate` holds for the collected spans; rejects after `timeoutMs`. */
  waitForSpans(
    predicate: (spans: readonly ReceivedSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedSpan[]>;
  waitForPoints(
    predicate: (points: readonly ReceivedPoint[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedPoint[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const points: ReceivedPoint[] = [];
  const contentTypes: string[] = [];
  const spansPerExport: number[] = [];
  const listeners = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      contentTypes.push(type);
      if (!type.startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (req.url === '/v1/traces') {
        const before = spans.length;
        collectSpans(body, spans);
        spansPerExport.push(spans.length - before);
      } else if (req.url === '/v1/metrics') collectPoints(body, points);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const l of listeners) l();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  function waitFor<T>(
    list: T[],
    predicate: (items: readonly T[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(list)) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(list);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `OTLP receiver: expected ${what} not received within ${timeoutMs} ms; got ${JSON.stringify(list, null, 1).slice(0, 3000)}`,
          ),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    points,
    contentTypes,
    spansPerExport,
    waitForSpans: (predicate, timeoutMs = 5000) => waitFor(spans, predicate, timeoutMs, 'spans'),
    waitForPoints: (predicate, timeoutMs = 5000) => waitFor(points, predicate, timeoutMs, 'metric points'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface ResourceSpans {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeSpans?: {
    scope?: { name?: string };
    spans?: {
      name: string;
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      kind: number;
      attributes?: OtlpKeyValue[];
      status?: { code?: number; message?: string };
      events?: { name: string; attributes?: OtlpKeyValue[] }[];
      links?: { traceId: string; spanId: string; attributes?: OtlpKeyValue[] }[];
    }[];
  }[];
}

function collectSpans(body: Record<string, unknown>, out: ReceivedSpan[]): void {
  for (const rs of (body.resourceSpans ?? []) as ResourceSpans[]) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          name: s.name,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          kind: s.kind,
          attributes: attrs(s.attributes),
          resource,
          scope: ss.scope?.name ?? '',
          status: s.status ?? {},
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
          links: (s.links ?? []).map((l) => ({
            traceId: l.traceId,
            spanId: l.spanId,
            attributes: attrs(l.attributes),
          })),
        });
      }
    }
  }
}

interface DataPoint {
  attributes?: OtlpKeyValue[];
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
}
interface ResourceMetrics {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeMetrics?: {
    metrics?: {
      name: string;
      sum?: { dataPoints?: DataPoint[] };
      gauge?: { dataPoints?: DataPoint[] };
      histogram?: { dataPoints?: DataPoint[] };
    }[];
  }[];
}

function collectPoints(body: Record<string, unknown>, out: ReceivedPoint[]): void {
  for (const rm of (body.resourceMetrics ?? []) as ResourceMetrics[]) {
    const resource = attrs(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const dps = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? m.histogram?.dataPoints ?? [];
        for (const dp of dps) {
          const value = Number(dp.count ?? dp.asInt ?? dp.asDouble ?? 0);
          out.push({ metric: m.name, attributes: attrs(dp.attributes), value, resource });
        }
      }
    }
  }
}
