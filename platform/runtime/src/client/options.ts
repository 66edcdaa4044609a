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
 * Circuit breaker of a peer: opens after consecutive failures (connection errors, timeouts, 5xx, 429), then
 * fails fast; after `halfOpenAfterMs` one test call goes through and closes it again on success.
 * @see https://learn.microsoft.com/en-us/azure/architecture/patterns/circuit-breaker
 */
export interface BreakerOptions {
  /**
   * Consecutive failed attempts that open the circuit.
   * @default 5
   */
  readonly consecutiveFailures?: number;
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
  breaker: { consecutiveFailures: 5, halfOpenAfterMs: 5000 },
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
    ['breaker.consecutiveFailures', out.breaker.consecutiveFailures, 1],
    ['breaker.halfOpenAfterMs', out.breaker.halfOpenAfterMs, 0],
    ['bulkhead.limit', out.bulkhead.limit, 1],
    ['bulkhead.queue', out.bulkhead.queue, 0],
  ];
  for (const [name, value, min] of checks) {
    if (!Number.isFinite(value) || value < min) {
      throw new RangeError(
        `Invalid client option ${name} = ${value} for peer '${peer}': it must be a number >= ${min}. ` +
          `Fix peers['${peer}'] or defaults in createServiceClients.`,
      );
    }
  }
  return out;
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
