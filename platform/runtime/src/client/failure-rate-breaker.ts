/**
 * A circuit breaker that opens on the failure rate of a peer over a sliding time window, and only once the
 * window holds enough attempts for the rate to mean something. A cockatiel `IBreaker`: the policy calls
 * `success` or `failure` for each attempt it counts, and opens the circuit when `failure` returns true.
 *
 * Why not cockatiel's own `SamplingBreaker`: it advances its ring by one bucket per recorded attempt,
 * however much time passed, so after a quiet spell attempts from long ago still count
 * (`rotateWindow` in node_modules/cockatiel/dist/breaker/SamplingBreaker.js, cockatiel 4.0): a few failures
 * an hour apart could add up to an opening. Its minimum is also a rate (`minimumRps`) where a count of
 * attempts is what says "enough to judge". Here each bucket knows which interval it holds and a stale one is
 * ignored, and the minimum is a count.
 * @see https://learn.microsoft.com/en-us/azure/architecture/patterns/circuit-breaker
 */
import { CircuitState, type IBreaker } from 'cockatiel';

/** Settings of a {@link FailureRateBreaker}. */
export interface FailureRateBreakerOptions {
  /** Share of failed attempts (0 < rate <= 1) in the window at or above which the circuit opens. */
  readonly failureRate: number;
  /** Length of the sliding window in milliseconds. */
  readonly windowMs: number;
  /** Attempts the window must hold (failed or not) before the rate can open the circuit. */
  readonly minimumAttempts: number;
}

/** What the window holds now. */
export interface BreakerWindow {
  readonly attempts: number;
  readonly failures: number;
  readonly windowMs: number;
}

/** The window is kept as this many buckets, so it slides in steps of a tenth of its length. */
const BUCKETS = 10;

interface Bucket {
  /** Which interval (`floor(time / bucketMs)`) the counts belong to. */
  interval: number;
  successes: number;
  failures: number;
}

export class FailureRateBreaker implements IBreaker {
  private readonly bucketMs: number;
  private buckets: Bucket[] = emptyBuckets();

  /** @param now the clock (tests pass their own) */
  constructor(
    private readonly options: FailureRateBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = Math.max(1, options.windowMs / BUCKETS);
  }

  /** The counts of the window; see `IBreaker`, used by cockatiel to save and restore a breaker. */
  get state(): unknown {
    return this.buckets.map((b) => ({ ...b }));
  }

  set state(value: unknown) {
    this.buckets = Array.isArray(value) && value.length === BUCKETS ? (value as Bucket[]) : emptyBuckets();
  }

  success(state: CircuitState): void {
    // The test call of a half-open circuit succeeded: the circuit closes, and the outage's failures go.
    if (state === CircuitState.HalfOpen) this.buckets = emptyBuckets();
    this.bucketAt(this.now()).successes++;
  }

  failure(state: CircuitState): boolean {
    this.bucketAt(this.now()).failures++;
    // A failed test call of a half-open circuit opens it again.
    if (state !== CircuitState.Closed) return true;
    const { attempts, failures } = this.window();
    return attempts >= this.options.minimumAttempts && failures >= this.options.failureRate * attempts;
  }

  /** The attempts and failures of the last `windowMs`. */
  window(): BreakerWindow {
    const current = Math.floor(this.now() / this.bucketMs);
    let attempts = 0;
    let failures = 0;
    for (const b of this.buckets) {
      if (current - b.interval >= BUCKETS) continue; // from an earlier window
      attempts += b.successes + b.failures;
      failures += b.failures;
    }
    return { attempts, failures, windowMs: this.options.windowMs };
  }

  private bucketAt(time: number): Bucket {
    const interval = Math.floor(time / this.bucketMs);
    const bucket = this.buckets[interval % BUCKETS] as Bucket;
    if (bucket.interval !== interval) {
      bucket.interval = interval;
      bucket.successes = 0;
      bucket.failures = 0;
    }
    return bucket;
  }
}

function emptyBuckets(): Bucket[] {
  return Array.from({ length: BUCKETS }, () => ({ interval: -Infinity, successes: 0, failures: 0 }));
}
