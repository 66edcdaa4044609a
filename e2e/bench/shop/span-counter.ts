/**
 * The OTLP/HTTP receiver the shop's services export to during the benchmark (instead of the stack's trace
 * sink, which prints every trace): it decodes the spans and keeps, per queue, when each message was
 * processed (the consumer's CONSUMER span, `messaging.operation.type` = `process`, one per delivery), and
 * whether the handling failed. Messages per second per queue come from these. Metrics are accepted and
 * dropped.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { decodeProtobufTraces } from '@flotilla/dev';

const gunzipAsync = promisify(gunzip);
const CONSUMER = 5;

export interface SpanCounter {
  readonly endpoint: string;
  /** Deliveries processed on `queue` that started in [fromMs, toMs) (epoch ms), and how many failed. */
  processed(queue: string, fromMs: number, toMs: number): { messages: number; failed: number };
  /** Spans received so far, and export requests that could not be decoded. */
  readonly spans: number;
  readonly undecodable: number;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipAsync(raw) : raw;
}

export async function startSpanCounter(): Promise<SpanCounter> {
  const deliveries = new Map<string, { at: number[]; failedAt: number[] }>();
  let spans = 0;
  let undecodable = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?', 1)[0];
      const buf = await body(req);
      if (path === '/v1/traces') {
        try {
          for (const span of decodeProtobufTraces(buf)) {
            spans++;
            if (span.kind !== CONSUMER || span.attributes['messaging.operation.type'] !== 'process') continue;
            const queue = String(span.attributes['messaging.destination.name']);
            const entry = deliveries.get(queue) ?? { at: [], failedAt: [] };
            deliveries.set(queue, entry);
            entry.at.push(span.startMs);
            if (span.status === 'error') entry.failedAt.push(span.startMs);
          }
        } catch {
          undecodable++;
        }
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    })().catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const within = (times: readonly number[], from: number, to: number) =>
    times.filter((t) => t >= from && t < to).length;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    processed(queue, fromMs, toMs) {
      const entry = deliveries.get(queue);
      return entry
        ? { messages: within(entry.at, fromMs, toMs), failed: within(entry.failedAt, fromMs, toMs) }
        : { messages: 0, failed: 0 };
    },
    get spans() {
      return spans;
    },
    get undecodable() {
      return undecodable;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
