/**
 * The shop's customers: places orders through the gateway (`POST /api/orders`, each with an
 * Idempotency-Key, as the orders API asks), in a process of its own that stays up for the whole suite. The
 * parent sends `{ type: 'orders', spec }` over IPC and gets one {@link OrdersResult} per run.
 *
 * Two modes:
 * - `open`: an open loop at a fixed rate. Order i is due at start + i / rate and is sent then, whether or not
 *   earlier orders were answered, and its latency counts from when it was due. A closed loop (autocannon's
 *   `overallRate` over a fixed set of connections) stops sending while every connection waits, so a slow
 *   system is offered less than the rate and the wait is missing from the latencies (coordinated omission);
 *   customers arriving at a rate do not wait for each other.
 * - `closed`: `clients` customers, each placing its next order as soon as the last one is answered: the
 *   most the shop sustains (saturation).
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { isMessage, tellParent } from '../lib/child.js';
import { percentile, sleep } from '../lib/stats.js';

export type OrdersSpec = { readonly gatewayUrl: string; readonly seconds: number } & (
  { readonly mode: 'open'; readonly rate: number } | { readonly mode: 'closed'; readonly clients: number }
);

export interface OrdersRequest {
  readonly type: 'orders';
  readonly spec: OrdersSpec;
}

export interface OrdersResult {
  readonly type: 'orders-result';
  /** Epoch ms of the first send and of the last answer. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly sent: number;
  /** Orders answered 201, with their id and whether they are the declined kind (cancelled, not paid). */
  readonly accepted: readonly { readonly id: string; readonly declined: boolean }[];
  /**
   * Answers by HTTP status, and problem type for a problem answer (`503 urn:shop:problem:...`); `0` counts
   * requests with no answer (connection error, 30 s timeout), `overloaded` those never sent (see
   * MAX_IN_FLIGHT).
   */
  readonly statuses: Readonly<Record<string, number>>;
  /** Latency of every answered request, ms (open loop: from when it was due). */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Open loop: the latest a request went out after it was due, ms (the generator's own lag). */
  readonly maxLagMs: number;
}

/** One SKU-LUXURY order in five: payments declines it (over its limit) and orders cancels it. */
const DECLINED_EVERY = 5;
const REQUEST_TIMEOUT_MS = 30_000;
/** In-flight requests at most; an open loop past it is overloading the shop and stops adding more. */
const MAX_IN_FLIGHT = 512;
const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });

function lines(i: number): { sku: string; quantity: number }[] {
  return i % DECLINED_EVERY === DECLINED_EVERY - 1
    ? [{ sku: 'SKU-LUXURY', quantity: 1 }]
    : [{ sku: 'SKU-CHEAP', quantity: 1 + (i % 3) }];
}

/**
 * Places one order; resolves with the status (0: no answer), the order id of a 201, and otherwise the
 * problem's type (RFC 9457), which tells a refusal (inventory unavailable) from a failure.
 */
function place(gatewayUrl: string, i: number): Promise<{ status: number; id?: string; problem?: string }> {
  const body = JSON.stringify({ customerId: 'bench', items: lines(i) });
  return new Promise((resolve) => {
    const req = request(
      `${gatewayUrl}/api/orders`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': randomUUID(),
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let body: { id?: unknown; type?: unknown } | undefined;
          try {
            body = JSON.parse(text) as { id?: unknown; type?: unknown };
          } catch {
            body = undefined;
          }
          if (status === 201 && typeof body?.id === 'string') resolve({ status, id: body.id });
          else if (status === 201) resolve({ status: 0, problem: 'a 201 without an order id' });
          else resolve({ status, ...(typeof body?.type === 'string' ? { problem: body.type } : {}) });
        });
        res.on('error', () => resolve({ status: 0 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0 }));
    req.end(body);
  });
}

async function run(spec: OrdersSpec): Promise<OrdersResult> {
  const latencies: number[] = [];
  const accepted: { id: string; declined: boolean }[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  let inFlight = 0;
  let maxLagMs = 0;
  const startedAt = Date.now();
  const t0 = performance.now();
  const end = t0 + spec.seconds * 1000;
  const one = async (i: number, due: number) => {
    sent++;
    inFlight++;
    const r = await place(spec.gatewayUrl, i);
    inFlight--;
    const key = r.problem === undefined ? String(r.status) : `${r.status} ${r.problem}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (r.status !== 0) latencies.push(performance.now() - due);
    if (r.id !== undefined) accepted.push({ id: r.id, declined: i % DECLINED_EVERY === DECLINED_EVERY - 1 });
  };
  const pending: Promise<void>[] = [];
  if (spec.mode === 'open') {
    const total = Math.floor(spec.rate * spec.seconds);
    for (let i = 0; i < total;) {
      const now = performance.now();
      // Every order due by now goes out now; then wait for the next one's time.
      while (i < total && t0 + (i * 1000) / spec.rate <= now) {
        const due = t0 + (i * 1000) / spec.rate;
        if (inFlight >= MAX_IN_FLIGHT) {
          statuses.overloaded = (statuses.overloaded ?? 0) + 1;
        } else {
          maxLagMs = Math.max(maxLagMs, now - due);
          pending.push(one(i, due));
        }
        i++;
      }
      if (i < total) await sleep(Math.max(0, t0 + (i * 1000) / spec.rate - performance.now()));
    }
  } else {
    let next = 0;
    const client = async () => {
      while (performance.now() < end) {
        const i = next++;
        await one(i, performance.now());
      }
    };
    pending.push(...Array.from({ length: spec.clients }, client));
  }
  await Promise.all(pending);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    type: 'orders-result',
    startedAt,
    endedAt: Date.now(),
    sent,
    accepted,
    statuses,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    maxLagMs,
  };
}

let queue = Promise.resolve();
process.on('message', (m: unknown) => {
  if (!isMessage<OrdersRequest>('orders')(m)) return;
  queue = queue.then(async () => tellParent(await run(m.spec)));
});
process.once('disconnect', () => void queue.then(() => process.exit(0)));
