import {
  MAX_RETRY_WINDOW_MINUTES,
  POISON_RECEIVE_COUNT,
  retryDelayBoundSeconds,
  retryDelaySeconds,
  retryPolicy,
  SPARE_RECEIVES,
} from '../src/index.js';

/** Seconds from a message's first failure to its move to the DLQ when every delay is at its lower bound. */
function shortestWindowSeconds(failures: number): number {
  let total = 0;
  for (let n = 1; n <= failures; n++) total += retryDelaySeconds(n, undefined, 0);
  return total;
}

describe('retryPolicy', () => {
  it('gives the default 15 minutes enough receives that the shortest jittered backoff spans them', () => {
    const policy = retryPolicy(15);
    const failures = policy.maxReceiveCount - SPARE_RECEIVES;
    // Every receive that fails waits out its delay; the move to the DLQ comes on the receive after the last.
    expect(shortestWindowSeconds(failures)).toBeGreaterThanOrEqual(15 * 60);
    // and not many more than it needs
    expect(shortestWindowSeconds(failures - 1)).toBeLessThan(15 * 60);
    expect(policy).toEqual({
      retryWindowMinutes: 15,
      maxReceiveCount: 23,
      backoff: { baseSeconds: 2, maxSeconds: 120 },
      poisonReceiveCount: POISON_RECEIVE_COUNT,
    });
  });

  it('stays within the SQS redrive limit of 1000 receives up to the largest window', () => {
    expect(retryPolicy(MAX_RETRY_WINDOW_MINUTES).maxReceiveCount).toBeLessThanOrEqual(1000);
    expect(
      shortestWindowSeconds(retryPolicy(MAX_RETRY_WINDOW_MINUTES).maxReceiveCount - SPARE_RECEIVES),
    ).toBeGreaterThanOrEqual(MAX_RETRY_WINDOW_MINUTES * 60);
    expect(retryPolicy(1).maxReceiveCount).toBeGreaterThan(POISON_RECEIVE_COUNT);
  });

  it('draws each delay from the upper half of its exponential bound, in whole seconds', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 30].map((n) => retryDelayBoundSeconds(n))).toEqual([
      2, 4, 8, 16, 32, 64, 120, 120,
    ]);
    for (const n of [1, 3, 7, 30]) {
      const bound = retryDelayBoundSeconds(n);
      expect(retryDelaySeconds(n, undefined, 0)).toBe(Math.ceil(bound / 2));
      expect(retryDelaySeconds(n, undefined, 0.9999)).toBe(bound);
    }
    const spread = new Set(Array.from({ length: 200 }, () => retryDelaySeconds(7)));
    expect(spread.size).toBeGreaterThan(20); // jittered: messages that failed together come back apart
    expect([...spread].every((d) => d >= 60 && d <= 120)).toBe(true);
  });
});
