/**
 * The resilience policies of one peer, built from cockatiel: bulkhead -> retry -> circuit breaker ->
 * timeout -> attempt. The bulkhead is outermost so a call holds one slot across its retries; the breaker
 * is inside the retry so every attempt counts and an opening breaker stops the retries; the timeout is per
 * attempt and aborts the request through its AbortSignal. The breaker opens on a failure rate over a
 * sliding window (see `BreakerOptions` for what counts and why).
 */
import {
  BrokenCircuitError,
  BulkheadRejectedError as CockatielBulkheadRejectedError,
  CircuitState,
  DelegateBackoff,
  ExponentialBackoff,
  IsolatedCircuitError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IRetryBackoffContext,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import type { Logger } from '../kit.js';
import {
  BulkheadRejectedError,
  CircuitOpenError,
  PeerClientError,
  PeerInvalidResponseError,
  PeerResponseError,
  PeerServerError,
  PeerTimeoutError,
  PeerUnavailableError,
  type PeerCallTarget,
} from './errors.js';
import { FailureRateBreaker } from './failure-rate-breaker.js';
import type { ResolvedPeerOptions } from './options.js';

/** State of a peer's circuit breaker. */
export type CircuitStateName = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** Statuses worth another attempt: the peer or a proxy in front of it is briefly unable to answer. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** What one attempt gets from the policies. */
export interface AttemptContext {
  /** Aborted when the attempt times out or the caller cancels. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** Statuses that say the peer (or the proxy in front of it) cannot answer now: breaker failures. */
const UNAVAILABLE_STATUS = new Set([502, 503, 504]);

/**
 * A failure that says the peer cannot answer: it counts against the breaker. Not a 4xx, 429 or 500: see
 * `BreakerOptions` for why.
 */
function isPeerFailure(err: unknown): boolean {
  if (err instanceof PeerUnavailableError || err instanceof PeerTimeoutError) return true;
  return err instanceof PeerServerError && UNAVAILABLE_STATUS.has(err.status);
}

/**
 * An error that is an answer from the peer (any status that is not a failure, or a 2xx body the caller
 * rejects): the breaker counts it as a success, for the peer answered. Carried through the breaker as a
 * value, since cockatiel counts an error it does not handle as neither success nor failure.
 */
class PeerAnswered {
  constructor(readonly error: PeerResponseError | PeerInvalidResponseError) {}
}

function isAnswer(err: unknown): err is PeerResponseError | PeerInvalidResponseError {
  return (err instanceof PeerResponseError || err instanceof PeerInvalidResponseError) && !isPeerFailure(err);
}

/** A failure that another attempt may cure. */
function isRetryable(err: unknown, maxRetryAfterMs: number): boolean {
  if (err instanceof PeerUnavailableError || err instanceof PeerTimeoutError) return true;
  if (err instanceof PeerServerError || err instanceof PeerClientError) {
    if (!RETRYABLE_STATUS.has(err.status)) return false;
    const wait = err.retryAfterMs;
    return wait === undefined || wait <= maxRetryAfterMs;
  }
  return false;
}

/** The per-peer policies; one instance per peer, shared by all its calls (the breaker must be shared). */
export class PeerPolicies {
  readonly breaker: CircuitBreakerPolicy;
  private readonly rate: FailureRateBreaker;
  private readonly bulkhead: BulkheadPolicy;
  private readonly retry: RetryPolicy;
  private readonly noRetry: RetryPolicy;
  /** The per-attempt timeout at the peer's `timeoutMs`, shared by every call that does not override it. */
  private readonly defaultTimeout: TimeoutPolicy;

  constructor(
    readonly peer: string,
    private readonly options: ResolvedPeerOptions,
    log: Logger,
  ) {
    this.bulkhead = bulkhead(options.bulkhead.limit, options.bulkhead.queue);
    const { failureRate, windowMs, minimumAttempts, halfOpenAfterMs } = options.breaker;
    this.rate = new FailureRateBreaker({ failureRate, windowMs, minimumAttempts });
    this.breaker = circuitBreaker(handleWhen(isPeerFailure), {
      halfOpenAfter: halfOpenAfterMs,
      breaker: this.rate,
    });
    this.breaker.onBreak((reason) => {
      const err = 'error' in reason ? reason.error : undefined;
      const { attempts, failures } = this.rate.window();
      log.warn(
        { peer, err, attempts, failures, windowMs },
        `circuit to peer '${peer}' opened (${failures} of the last ${attempts} attempts within ${windowMs} ms ` +
          'timed out, could not connect or got 502/503/504); calls fail fast',
      );
    });
    this.breaker.onHalfOpen(() =>
      log.info({ peer }, `circuit to peer '${peer}' half-open; testing recovery`),
    );
    this.breaker.onReset(() => log.info({ peer }, `circuit to peer '${peer}' closed; peer recovered`));

    const { maxRetries, initialDelayMs, maxDelayMs, maxRetryAfterMs } = options.retry;
    const exponential = new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs });
    // Exponential backoff with decorrelated jitter, unless the peer said how long to wait (Retry-After).
    const backoff = new DelegateBackoff<IRetryBackoffContext<unknown>, IBackoff<unknown> | undefined>(
      (ctx, previous) => {
        const next = previous ? previous.next(ctx) : exponential.next();
        const error = 'error' in ctx.result ? ctx.result.error : undefined;
        const asked =
          error instanceof PeerServerError || error instanceof PeerClientError
            ? error.retryAfterMs
            : undefined;
        return { delay: asked ?? next.duration, state: next };
      },
    );
    const retryable = handleWhen((err) => isRetryable(err, maxRetryAfterMs));
    this.retry = retry(retryable, { maxAttempts: maxRetries, backoff });
    this.retry.onRetry((e) => {
      const err = 'error' in e ? e.error : undefined;
      log.debug({ peer, err, attempt: e.attempt, delayMs: e.delay }, `retrying call to peer '${peer}'`);
    });
    this.noRetry = retry(retryable, { maxAttempts: 0 });
    this.defaultTimeout = attemptTimeout(options.timeoutMs);
  }

  /** The breaker's current state. */
  get circuitState(): CircuitStateName {
    return STATE_NAMES[this.breaker.state];
  }

  /**
   * Runs `attempt` under the policies. Cockatiel's own rejections become the client's typed errors.
   * @param retryable whether the call may be repeated (idempotent method or Idempotency-Key)
   */
  async execute<T>(
    target: PeerCallTarget,
    retryable: boolean,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    attempt: (ctx: AttemptContext) => Promise<T>,
  ): Promise<T> {
    const perAttempt = timeoutMs === this.options.timeoutMs ? this.defaultTimeout : attemptTimeout(timeoutMs);
    const retries = retryable ? this.retry : this.noRetry;
    try {
      return await this.bulkhead.execute(
        ({ signal: s1 }) =>
          retries.execute(async ({ signal: s2, attempt: n }) => {
            const result = await this.breaker.execute(
              ({ signal: s3 }) =>
                perAttempt
                  .execute(({ signal: s4 }) => attempt({ signal: s4, attempt: n + 1 }), s3)
                  .catch((err: unknown) => {
                    if (isAnswer(err)) return new PeerAnswered(err);
                    throw err;
                  }),
              s2,
            );
            if (result instanceof PeerAnswered) throw result.error;
            return result;
          }, s1),
        signal,
      );
    } catch (err) {
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
        const last = this.breaker.lastFailure;
        throw new CircuitOpenError(target, last && 'error' in last ? last.error : undefined);
      }
      if (err instanceof CockatielBulkheadRejectedError) {
        throw new BulkheadRejectedError(target, this.options.bulkhead.limit, this.options.bulkhead.queue);
      }
      throw err;
    }
  }
}

/** A timeout per attempt that aborts the attempt's request through its signal. */
function attemptTimeout(ms: number): TimeoutPolicy {
  return timeout(ms, { strategy: TimeoutStrategy.Cooperative, abortOnReturn: true });
}
