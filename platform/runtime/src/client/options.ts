/**
 * Resilience settings of calls to one peer, with the platform's defaults. A service overrides them per peer
 * in `createServiceClients({ peers: { inventory: { timeoutMs: 500 } } })` or for all peers in `defaults`.
 */

/** Retries of failed attempts. Only idempotent calls are retried (see `PeerClient`). */
export interface PeerRetryOptions {
  /**
   * Retries after the first attempt (so at most `maxRetries + 1` attempts). `0` disables retries.
   * @default 2
   */
  readonly maxRetries?: number;
  /**
   * First backoff delay in milliseconds; later delays grow exponentially with decorrelated jitter.
   * @default 100
   * @see https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/
   */
  readonly initialDelayMs?: number;
  /**
   * Upper bound of one backoff delay in milliseconds.
   * @default 2000
   */
  readonly maxDelayMs?: number;
  /**
   * Longest `Retry-After` (on 429 or 503) that is honoured by waiting. A peer that asks for a longer pause is
   * not retried: the call fails with the 429/503 error, whose `retryAfterMs` says how long the peer wants.
   * @default 5000
   * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
   */
  readonly maxRetryAfterMs?: number;
}

/**
 * Circuit breaker of a peer: opens when, over the last `windowMs`, at least `minimumAttempts` attempts were
 * made and at least `failureRate` of them failed; then fails fast; after `halfOpenAfterMs` one test call goes
 * through and closes it again on success.
 *
 * Only what says the peer cannot answer counts as a failure: a timeout, a connection error (refused, reset,
 * DNS), and 502, 503 or 504 (the peer, or a proxy in front of it, says it is unavailable). Any other answer
 * counts as a success, for the peer did answer: a 4xx is the caller's mistake; a 429 is the peer limiting
 * this caller, answered by honouring Retry-After rather than cutting every call off; and a 500 is usually
 * deterministic, what a given request makes the peer do, so a client that can send that request again could
 * otherwise open the circuit for everyone (issue 11: five orders with a NUL in a SKU made inventory answer
 * 500 five times and shut order placement down). A peer that is down answers 503 from its readiness, its
 * proxy or its load balancer, or not at all.
 * @see https://learn.microsoft.com/en-us/azure/architecture/patterns/circuit-breaker
 */
export interface BreakerOptions {
  /**
   * Share of failed attempts in the window at or above which the circuit opens, more than 0 and at most 1.
   * @default 0.5
   */
  readonly failureRate?: number;
  /**
   * Length of the sliding window the rate is measured over, in milliseconds. Long enough that a few
   * concurrent callers of a peer that hangs (each attempt taking its whole `timeoutMs`) fill it with
   * `minimumAttempts`; Polly's sampling duration has the same default.
   * @default 30000
   * @see https://www.pollydocs.org/strategies/circuit-breaker#defaults
   */
  readonly windowMs?: number;
  /**
   * Attempts (failed or not, each retry counting) the window must hold before the rate can open the circuit,
   * so that a handful of failures, which a client may be able to cause, never does.
   * @default 20
   */
  readonly minimumAttempts?: number;
  /**
   * Time in milliseconds the circuit stays open before it half-opens for a test call.
   * @default 5000
   */
  readonly halfOpenAfterMs?: number;
}

/** Bulkhead of a peer: a cap on concurrent calls, so a slow peer cannot take every socket and request. */
export interface BulkheadOptions {
  /**
   * Calls to this peer in flight at once (a call holds its slot across its retries).
   * @default 50
   */
  readonly limit?: number;
  /**
   * Calls that may wait for a slot; beyond that a call fails at once with `BulkheadRejectedError`.
   * @default 10
   */
  readonly queue?: number;
}

/** Settings of calls to one peer. */
export interface PeerOptions {
  /**
   * Timeout of one attempt in milliseconds, covering connect, response and body. On expiry the request is
   * aborted (the peer sees the connection close). A call may override it with `CallOptions.timeoutMs`.
   * @default 2000
   */
  readonly timeoutMs?: number;
  readonly retry?: PeerRetryOptions;
  readonly breaker?: BreakerOptions;
  readonly bulkhead?: BulkheadOptions;
}

/** {@link PeerOptions} with every default applied. */
export interface ResolvedPeerOptions {
  readonly timeoutMs: number;
  readonly retry: Required<PeerRetryOptions>;
  readonly breaker: Required<BreakerOptions>;
  readonly bulkhead: Required<BulkheadOptions>;
}

/** The platform defaults. */
export const PEER_DEFAULTS: ResolvedPeerOptions = {
  timeoutMs: 2000,
  retry: { maxRetries: 2, initialDelayMs: 100, maxDelayMs: 2000, maxRetryAfterMs: 5000 },
  breaker: { failureRate: 0.5, windowMs: 30_000, minimumAttempts: 20, halfOpenAfterMs: 5000 },
  bulkhead: { limit: 50, queue: 10 },
};

/** Applies defaults, then service-wide settings, then the peer's own; checks that every number is sane. */
export function resolvePeerOptions(
  peer: string,
  ...layers: (PeerOptions | undefined)[]
): ResolvedPeerOptions {
  let out: ResolvedPeerOptions = PEER_DEFAULTS;
  for (const l of layers) {
    if (!l) continue;
    out = {
      timeoutMs: l.timeoutMs ?? out.timeoutMs,
      retry: { ...out.retry, ...definedOnly(l.retry) },
      breaker: { ...out.breaker, ...definedOnly(l.breaker) },
      bulkhead: { ...out.bulkhead, ...definedOnly(l.bulkhead) },
    };
  }
  const checks: [string, number, number][] = [
    ['timeoutMs', out.timeoutMs, 1],
    ['retry.maxRetries', out.retry.maxRetries, 0],
    ['retry.initialDelayMs', out.retry.initialDelayMs, 0],
    ['retry.maxDelayMs', out.retry.maxDelayMs, 0],
    ['retry.maxRetryAfterMs', out.retry.maxRetryAfterMs, 0],
    ['breaker.windowMs', out.breaker.windowMs, 1],
    ['breaker.minimumAttempts', out.breaker.minimumAttempts, 1],
    ['breaker.halfOpenAfterMs', out.breaker.halfOpenAfterMs, 0],
    ['bulkhead.limit', out.bulkhead.limit, 1],
    ['bulkhead.queue', out.bulkhead.queue, 0],
  ];
  for (const [name, value, min] of checks) {
    if (!Number.isFinite(value) || value < min) throw invalidOption(peer, name, value, `a number >= ${min}`);
  }
  const rate = out.breaker.failureRate;
  if (!(rate > 0 && rate <= 1))
    throw invalidOption(peer, 'breaker.failureRate', rate, 'more than 0 and at most 1');
  return out;
}

function invalidOption(peer: string, name: string, value: number, expected: string): RangeError {
  return new RangeError(
    `Invalid client option ${name} = ${value} for peer '${peer}': it must be ${expected}. ` +
      `Fix peers['${peer}'] or defaults in createServiceClients.`,
  );
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
