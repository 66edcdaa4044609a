/**
 * A real HTTP peer on 127.0.0.1 whose behaviour a test scripts per request, to inject faults: hang, reset
 * the connection, answer 503 or 429, then recover. It records every request it sees and every request
 * whose connection the client aborted.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Date.now() when the request arrived. */
  readonly at: number;
}

/** Handles request number `n` (1-based). Not answering leaves the request hanging. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, n: number) => void;

export interface TestPeer {
  readonly url: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** Requests whose connection closed before the peer answered. */
  readonly aborted: number;
  /** Resolves when at least `count` requests were aborted by the client. */
  abortedAtLeast(count: number): Promise<void>;
  /** Replaces the behaviour for the following requests. */
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export async function startPeer(behaviour: Behaviour): Promise<TestPeer> {
  let current = behaviour;
  const requests: SeenRequest[] = [];
  let aborted = 0;
  let waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      res.on('close', () => {
        if (res.writableEnded) return;
        aborted++;
        waiters = waiters.filter((w) => (aborted >= w.count ? (w.resolve(), false) : true));
      });
      current(req, res, requests.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get aborted() {
      return aborted;
    },
    abortedAtLeast: (count) =>
      aborted >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
    behave: (b) => {
      current = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with JSON. */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Drops the connection without an answer (the client sees a reset / closed socket). */
export function reset(req: IncomingMessage): void {
  req.socket.destroy();
}

/** Leaves the request unanswered. */
export function hang(): void {}
