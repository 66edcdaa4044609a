/**
 * A real HTTP proxy in front of the SQS emulator that delays or holds chosen calls (by their
 * `X-Amz-Target`, e.g. `AmazonSQS.ChangeMessageVisibility`), to inject a slow or hung SQS into a consumer
 * that talks to it through the real AWS SDK. It records every call it forwarded.
 */
import { startPeer, type TestPeer } from './client-peer.js';

/** What to do with one call: forward after `delayMs` (0: at once), or `'hang'`: never answer. */
export type ProxyDecision = { readonly delayMs: number } | 'hang';

export interface ProxiedCall {
  /** The action, e.g. `ChangeMessageVisibility`. */
  readonly action: string;
  readonly body: Record<string, unknown>;
  /** Date.now() when the call arrived and when the emulator's answer went back (undefined while held). */
  readonly at: number;
  answeredAt?: number;
}

export interface SqsProxy {
  /** Use as the SQS endpoint. */
  readonly endpoint: string;
  readonly calls: readonly ProxiedCall[];
  /** Decides per call from now on; undefined forwards at once. */
  rule(decide: (action: string, body: Record<string, unknown>) => ProxyDecision | undefined): void;
  close(): Promise<void>;
}

/** Headers fetch sets itself (or refuses). */
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

export async function startSqsProxy(upstream: string): Promise<SqsProxy> {
  let decide: (action: string, body: Record<string, unknown>) => ProxyDecision | undefined = () => undefined;
  const calls: ProxiedCall[] = [];
  const peer: TestPeer = await startPeer((req, res, n) => {
    const seen = peer.requests[n - 1]!;
    const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    const body = seen.body ? (JSON.parse(seen.body) as Record<string, unknown>) : {};
    const call: ProxiedCall = { action, body, at: Date.now() };
    calls.push(call);
    const decision = decide(action, body) ?? { delayMs: 0 };
    if (decision === 'hang') return;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && !HOP_HEADERS.has(k)) headers[k] = v;
    setTimeout(() => {
      fetch(`${upstream}${req.url ?? '/'}`, { method: req.method, headers, body: seen.body || undefined })
        .then(async (answer) => {
          const text = await answer.text();
          call.answeredAt = Date.now();
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          });
          res.end(text);
        })
        .catch(() => res.destroy());
    }, decision.delayMs);
  });
  return {
    endpoint: peer.url,
    calls,
    rule(d) {
      decide = d;
    },
    close: () => peer.close(),
  };
}
