/**
 * The shop's customer, through the gateway as a newcomer's curl would talk to it. Every order carries an
 * Idempotency-Key, as the orders API asks of a client that retries, and every answer is sorted into what it
 * tells the customer:
 * - `accepted` (201): the order exists, with this id;
 * - `refused`: the shop said no order was placed (a 4xx, or a 503 problem: inventory unavailable, no
 *   process ready);
 * - `unknown`: any other answer (a 500, a 502/504 from the gateway, a broken connection). The order may or
 *   may not exist; only sending the same key and body again tells (see {@link Customer.reconcile}).
 */
import { randomUUID } from 'node:crypto';
import type { OrderLine } from './ledger.js';
import { sleep } from './util.js';

export interface Order {
  readonly id: string;
  readonly status: 'PENDING' | 'PAID' | 'CANCELLED';
  readonly items: readonly (OrderLine & { priceCents: number })[];
  readonly totalCents: number;
}

export interface Attempt {
  readonly key: string;
  readonly outcome: 'accepted' | 'refused' | 'unknown';
  /** HTTP status, or 0 when the request got no answer at all. */
  readonly status: number;
  readonly order?: Order;
  /** The problem document's type and detail, for a refusal. */
  readonly problem?: { readonly type?: string; readonly title?: string; readonly detail?: string };
  readonly retryAfterSeconds?: number;
  /** How long the answer took. */
  readonly ms: number;
}

/**
 * Whether an answer is worth sending the same request again for: no answer, a 5xx, a 429, or a 409 that
 * says when to retry (the key's first request is still at work; a 409 without Retry-After, such as not
 * enough stock, is final).
 */
function transient(attempt: Attempt): boolean {
  if (attempt.status === 0 || attempt.status >= 500 || attempt.status === 429) return true;
  return attempt.status === 409 && attempt.retryAfterSeconds !== undefined;
}

export class Customer {
  /** Every order the shop accepted: id -> its lines. */
  readonly accepted = new Map<string, readonly OrderLine[]>();
  /** Keys whose last answer was `unknown`, with the lines sent. */
  private readonly unresolved = new Map<string, readonly OrderLine[]>();
  /** Every answer, in order. */
  readonly attempts: Attempt[] = [];

  constructor(
    private readonly gatewayUrl: string,
    private readonly customerId = 'fault-suite',
  ) {}

  /** One POST /api/orders: no retry. */
  async place(items: readonly OrderLine[], key: string = randomUUID()): Promise<Attempt> {
    const started = performance.now();
    let attempt: Attempt;
    try {
      const res = await fetch(`${this.gatewayUrl}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ customerId: this.customerId, items }),
        signal: AbortSignal.timeout(90_000),
      });
      const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      const ms = performance.now() - started;
      const retryAfter = Number(res.headers.get('retry-after'));
      const common = {
        key,
        status: res.status,
        ms,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      };
      const refused = (res.status >= 400 && res.status < 500) || (res.status === 503 && isProblem(res));
      if (res.status === 201) attempt = { ...common, outcome: 'accepted', order: body as unknown as Order };
      else if (refused) attempt = { ...common, outcome: 'refused', problem: problemOf(body) };
      else attempt = { ...common, outcome: 'unknown', problem: problemOf(body) };
    } catch {
      attempt = { key, outcome: 'unknown', status: 0, ms: performance.now() - started };
    }
    this.attempts.push(attempt);
    if (attempt.outcome === 'accepted') {
      this.accepted.set(attempt.order!.id, items);
      this.unresolved.delete(key);
    } else if (attempt.outcome === 'unknown') this.unresolved.set(key, items);
    else this.unresolved.delete(key);
    return attempt;
  }

  /**
   * A customer who wants the order: sends the same key and body again while the answer is transient (see
   * `transient`), waiting what Retry-After asks (at most 2 s), until the order is accepted. Fails on any
   * other answer, or after `deadlineMs`.
   */
  async placeUntilAccepted(
    items: readonly OrderLine[],
    options: { key?: string; deadlineMs?: number } = {},
  ): Promise<Order> {
    const key = options.key ?? randomUUID();
    const deadline = Date.now() + (options.deadlineMs ?? 120_000);
    for (let tries = 1; ; tries++) {
      const attempt = await this.place(items, key);
      if (attempt.outcome === 'accepted') return attempt.order!;
      if (!transient(attempt) || Date.now() > deadline) {
        throw new Error(
          `order ${key} not accepted after ${tries} tries: last answer ${attempt.status} ` +
            `${attempt.problem?.detail ?? attempt.problem?.title ?? ''}`.trim(),
        );
      }
      await sleep(Math.min(2000, (attempt.retryAfterSeconds ?? 0.2) * 1000));
    }
  }

  /**
   * Sends again every request whose answer was `unknown`, until the shop answers for it: an order placed
   * by the lost request comes back (replayed), one that was not is placed now. Afterwards, what the
   * customer knows is what the shop has.
   */
  async reconcile(): Promise<void> {
    for (const [key, items] of [...this.unresolved]) {
      const attempt = await this.placeUntilAccepted(items, { key }).catch(() => undefined);
      if (!attempt && this.unresolved.has(key))
        throw new Error(`order ${key}: its outcome stayed unknown after retrying`);
    }
  }

  /** GET through the gateway; the JSON body, with the status. */
  async get<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.gatewayUrl}${path}`, { signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as T };
  }
}

function isProblem(res: Response): boolean {
  return (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
}

function problemOf(body: Record<string, unknown> | undefined): Attempt['problem'] {
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const type = text(body?.type);
  const title = text(body?.title);
  const detail = text(body?.detail);
  return { ...(type ? { type } : {}), ...(title ? { title } : {}), ...(detail ? { detail } : {}) };
}
