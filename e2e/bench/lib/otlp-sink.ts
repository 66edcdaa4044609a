/**
 * An OTLP/HTTP receiver that accepts and discards: the collector stand-in for benchmarks. Answers every
 * export with an empty success response (a valid empty ExportTrace/MetricsServiceResponse in protobuf and
 * JSON), and counts what it got so a benchmark can show that telemetry really was exported.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSink {
  /** `http://127.0.0.1:<port>`: the value of OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  /** Export requests and bytes received so far, per path (`/v1/traces`, `/v1/metrics`). */
  readonly received: ReadonlyMap<string, { requests: number; bytes: number }>;
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const received = new Map<string, { requests: number; bytes: number }>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0] ?? '';
    const entry = received.get(path) ?? { requests: 0, bytes: 0 };
    received.set(path, entry);
    req.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
    req.on('end', () => {
      entry.requests += 1;
      const json = (req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
