/**
 * HTTP requests exactly as written: the path is not normalised (fetch would resolve `..` and re-encode),
 * and the body is sent byte for byte.
 */
import { request } from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Sent as is, e.g. `/api/orders/../../internal/payments` or `/api/orders/%E0%A4%A`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export interface RawResponse {
  /** 0 when the connection ended without an answer. */
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined && !('content-length' in headers))
      headers['content-length'] = String(Buffer.byteLength(req.body));
    const outgoing = request(
      { host: hostname, port, method: req.method, path: req.path, headers, agent: false, timeout: 60_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body }),
        );
        res.on('error', () => resolve({ status: 0, contentType: '', body }));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('no answer in 60 s')));
    // The server may answer (413, 431) and close before reading everything: that answer is what counts.
    outgoing.on('error', () => resolve({ status: 0, contentType: '', body: '' }));
    outgoing.end(req.body);
  });
}
