/** Exponential backoff settings. */
export interface BackoffOptions {
  /** First delay. */
  readonly baseMs: number;
  /** Upper bound of any delay. */
  readonly maxMs: number;
}

/** `base * 2^(attempt-1)`, capped; attempt counts from 1. */
export function exponentialDelay(attempt: number, { baseMs, maxMs }: BackoffOptions): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** "Full jitter": uniformly random in [0, exponential delay], so many retrying producers spread out. */
export function jitteredDelay(attempt: number, options: BackoffOptions): number {
  return Math.round(Math.random() * exponentialDelay(attempt, options));
}

/**
 * "Equal jitter": half the exponential delay fixed, half uniformly random, so a retry never comes much
 * sooner than the backoff asks yet retries still spread out.
 */
export function equalJitterDelay(attempt: number, options: BackoffOptions): number {
  const exponential = exponentialDelay(attempt, options);
  return Math.round(exponential / 2 + (Math.random() * exponential) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
