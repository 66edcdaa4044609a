/**
 * The local trace sink: an OTLP/HTTP receiver on 127.0.0.1 that prints each finished trace as one
 * compact line per span, and serves the trace page: recent traces at `/traces` (filters: `?service=`,
 * `?errors=1`), a trace's spans at `/traces/<trace id>`, and the same as JSON at `/api/traces`.
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { decodeJsonTraces, decodeProtobufTraces, OtlpDecodeError, type SpanRecord } from './otlp.js';
import { sendProblem } from './problem.js';
import {
  filterFromQuery,
  paletteOf,
  renderTraceDetail,
  renderTraceList,
  selectTraces,
} from './trace-page.js';
import { formatTrace, type Trace } from './traces.js';

export interface TraceSinkOptions {
  /** @default 4318 (the OTLP/HTTP port) */
  readonly port?: number;
  /** Receives the text lines of each finished trace. @default - nothing is printed */
  readonly print?: (lines: readonly string[]) => void;
  /** A trace counts as finished when no span of it arrived for this long. @default 1500 */
  readonly quietMs?: number;
  /** Traces kept for the page. @default 200 */
  readonly keep?: number;
}

export interface TraceSink {
  /** `http://127.0.0.1:<port>`: the OTLP endpoint services export to (`/v1/traces` is appended by them). */
  readonly url: string;
  readonly port: number;
  /** Kept traces, newest first. */
  traces(): readonly Trace[];
  stop(): Promise<void>;
}

const MAX_BODY = 16 * 1024 * 1024;
const gunzipAsync = promisify(gunzip);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new OtlpDecodeError(`body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipAsync(body) : body;
}

/** Starts the sink. */
export async function startTraceSink(options: TraceSinkOptions = {}): Promise<TraceSink> {
  const quietMs = options.quietMs ?? 1500;
  const keep = options.keep ?? 200;
  const traces = new Map<string, Trace>();
  const newestFirst = (): Trace[] => [...traces.values()].reverse();

  const add = (spans: readonly SpanRecord[]): void => {
    const now = Date.now();
    for (const span of spans) {
      let trace = traces.get(span.traceId);
      if (!trace) {
        trace = { traceId: span.traceId, spans: [], lastSpanAt: now, printed: 0 };
        traces.set(span.traceId, trace);
      } else {
        // Re-insert so the Map stays ordered by latest activity.
        traces.delete(span.traceId);
        traces.set(span.traceId, trace);
      }
      trace.spans.push(span);
      trace.lastSpanAt = now;
    }
    while (traces.size > keep) traces.delete(traces.keys().next().value!);
  };

  // Spans of one trace come from several processes at different times: print once it has gone quiet,
  // and print late spans (e.g. from a consumer) as a continuation.
  const flush = (force: boolean): void => {
    const now = Date.now();
    for (const trace of traces.values()) {
      if (trace.printed < trace.spans.length && (force || now - trace.lastSpanAt >= quietMs)) {
        const from = trace.printed;
        trace.printed = trace.spans.length;
        options.print?.(formatTrace(trace, from));
      }
    }
  };
  const ticker = setInterval(() => flush(false), Math.min(250, quietMs));
  ticker.unref();

  const html = (res: ServerResponse, body: string): void => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') {
      res.writeHead(302, { location: '/traces' }).end();
      return;
    }
    if (req.method === 'GET' && path === '/traces') {
      html(res, renderTraceList(newestFirst(), filterFromQuery(url.searchParams)));
      return;
    }
    const one = /^\/traces\/([0-9a-f]{32})$/.exec(path);
    if (req.method === 'GET' && one) {
      const trace = traces.get(one[1]!);
      if (trace) html(res, renderTraceDetail(trace, paletteOf(newestFirst())));
      else
        sendProblem(res, {
          title: 'Not Found',
          status: 404,
          detail: `No trace ${one[1]} here: the sink keeps the ${keep} most recent traces. See /traces.`,
          instance: path,
        });
      return;
    }
    if (req.method === 'GET' && path === '/api/traces') {
      const body = JSON.stringify(selectTraces(newestFirst(), filterFromQuery(url.searchParams)));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (req.method === 'POST' && (path === '/v1/traces' || path === '/v1/metrics' || path === '/v1/logs')) {
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim();
      const protobuf = type === 'application/x-protobuf';
      if (!protobuf && type !== 'application/json') {
        req.resume();
        sendProblem(res, {
          title: 'Unsupported Media Type',
          status: 415,
          detail: `OTLP/HTTP bodies are application/x-protobuf or application/json, not "${type}".`,
          instance: path,
        });
        return;
      }
      try {
        const body = await readBody(req);
        // Metrics and logs are accepted (so exporters do not retry) but not shown: the sink is for traces.
        if (path === '/v1/traces')
          add(protobuf ? decodeProtobufTraces(body) : decodeJsonTraces(body.toString('utf8')));
      } catch (err) {
        sendProblem(res, {
          title: 'Bad Request',
          status: 400,
          detail: `Cannot decode the OTLP export: ${(err as Error).message}`,
          instance: path,
        });
        return;
      }
      // An empty Export*ServiceResponse: zero bytes in protobuf, `{}` in JSON.
      if (protobuf)
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    req.resume();
    sendProblem(res, {
      title: 'Not Found',
      status: 404,
      detail: `The trace sink serves POST /v1/traces, /v1/metrics, /v1/logs and GET /traces, /traces/<trace id>, /api/traces, not ${req.method} ${path}.`,
      instance: path,
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent)
        sendProblem(res, { title: 'Internal Server Error', status: 500, detail: err.message });
      else res.destroy();
    });
  });
  const port = options.port ?? 4318;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Trace sink: port ${port} on 127.0.0.1 is in use (an OpenTelemetry collector?). Stop it or set FLOTILLA_TRACE_SINK_PORT=<port>.`,
            )
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    traces: newestFirst,
    stop: async () => {
      clearInterval(ticker);
      flush(true);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
