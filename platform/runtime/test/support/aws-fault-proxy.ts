/**
 * A real HTTP proxy in front of the SQS/SNS emulator that injects faults into chosen calls: refuse the
 * connection, answer an AWS error (throttling), answer in the emulator's place, delay, or hang. Everything
 * else is forwarded at once. The code under test talks to it through the real AWS SDK. It records every call,
 * with when it arrived and when its answer went back.
 */
import type { ServerResponse } from 'node:http';
import { json, reset, startPeer, type TestPeer } from './client-peer.js';

/** One call as the proxy saw it. */
export interface ProxiedCall {
  /** The action: `SendMessageBatch` (SQS, from X-Amz-Target) or `PublishBatch` (SNS, from the form body). */
  readonly action: string;
  /** The JSON body of an SQS call (empty for SNS's form-encoded calls). */
  readonly body: Record<string, unknown>;
  /** Date.now() when the call arrived. */
  readonly at: number;
  /** Date.now() when the emulator's answer went back (undefined while held, or for a fault). */
  answeredAt?: number;
}

/** What to do with one call: forward it (undefined), or a fault. */
export type Fault =
  | { readonly kind: 'reset' }
  | { readonly kind: 'hang' }
  /** Forward it after `ms`. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** An AWS JSON-protocol error, e.g. `{ status: 400, type: 'ThrottlingException' }`. */
  | { readonly kind: 'error'; readonly status: number; readonly type: string; readonly message?: string }
  /** Answer with this JSON body instead of the emulator. */
  | { readonly kind: 'answer'; readonly body: unknown };

export interface AwsFaultProxy {
  /** Use as the client's endpoint. */
  readonly endpoint: string;
  readonly calls: readonly ProxiedCall[];
  /** Decides each call from now on; undefined forwards it. */
  inject(decide: (call: ProxiedCall) => Fault | undefined): void;
  /** Resolves when the client closed the connection of at least `count` calls before they were answered. */
  abortedAtLeast(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Headers fetch sets itself (or refuses). */
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

function actionOf(target: string | undefined, body: string): string {
  if (target) return target.replace(/^AmazonSQS\./, '');
  return new URLSearchParams(body).get('Action') ?? '';
}

export async function startAwsFaultProxy(upstream: string): Promise<AwsFaultProxy> {
  let decide: (call: ProxiedCall) => Fault | undefined = () => undefined;
  const calls: ProxiedCall[] = [];
  const peer: TestPeer = await startPeer((req, res, n) => {
    const seen = peer.requests[n - 1]!;
    const target = req.headers['x-amz-target'];
    const isJson = typeof target === 'string';
    const call: ProxiedCall = {
      action: actionOf(isJson ? target : undefined, seen.body),
      body: isJson && seen.body ? (JSON.parse(seen.body) as Record<string, unknown>) : {},
      at: Date.now(),
    };
    calls.push(call);
    const fault = decide(call);
    if (fault?.kind === 'reset') return reset(req);
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'error') {
      return json(
        res,
        fault.status,
        { __type: `com.amazonaws.sqs#${fault.type}`, message: fault.message ?? 'injected by the test proxy' },
        { 'x-amzn-query-error': `${fault.type};Sender` },
      );
    }
    if (fault?.kind === 'answer') return json(res, 200, fault.body);
    const send = () =>
      forward(upstream, req.method ?? 'POST', req.url ?? '/', req.headers, seen.body, res, call);
    if (fault?.kind === 'delay') setTimeout(send, fault.ms);
    else send();
  });
  return {
    endpoint: peer.url,
    calls,
    inject(d) {
      decide = d;
    },
    abortedAtLeast: (count) => peer.abortedAtLeast(count),
    close: () => peer.close(),
  };
}

function forward(
  upstream: string,
  method: string,
  url: string,
  incoming: Record<string, string | string[] | undefined>,
  body: string,
  res: ServerResponse,
  call: ProxiedCall,
): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(incoming))
    if (typeof v === 'string' && !HOP_HEADERS.has(k)) headers[k] = v;
  fetch(`${upstream}${url}`, { method, headers, body: body || undefined })
    .then(async (answer) => {
      const text = await answer.text();
      call.answeredAt = Date.now();
      res.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      res.end(text);
    })
    .catch(() => res.destroy());
}
