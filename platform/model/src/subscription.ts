/**
 * The settings of a consumed queue beyond its name: their defaults and limits, and above all how long a
 * message is retried before it moves to its dead-letter queue, derived from one setting of the
 * subscription, `retryWindowMinutes`. The queue's redrive policy (`maxReceiveCount`, in the charts
 * and the local emulator) and the consumer's backoff schedule (in the runtime) both come from
 * {@link retryPolicy}, so they cannot disagree: the redrive count is what the backoff needs to span the
 * window, not a number picked separately.
 *
 * Why a window rather than a count: a count says nothing about time. Five receives with a 2-4-8-16-32 s
 * backoff dead-letter a message about a minute after its first failure, so a dependency outage of a minute
 * dead-lettered everything in flight. A window in minutes is what an operator means ("retry for 15
 * minutes"), and the count follows from it.
 */

/**
 * Defaults of a consumed queue's settings, documented on `TopicSubscription`; the runtime falls back on them
 * for a queue whose variables do not carry them.
 */
export const SUBSCRIPTION_DEFAULTS = { retryWindowMinutes: 15, visibilityTimeoutSeconds: 30 } as const;

/**
 * SQS's largest visibility timeout, and the longest a message stays invisible after one receive however
 * often its visibility is changed (12 hours).
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 */
export const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * The backoff between deliveries of a failing message: before the delivery after receive `n`, the message
 * stays invisible for a delay drawn uniformly from `[d/2, d]` ("equal jitter"), where
 * `d = min(maxSeconds, baseSeconds * 2^(n-1))`, in whole seconds, rounded up. The jitter spreads the retries
 * of many messages that failed together; its lower half bound is what {@link retryPolicy} counts on.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface RetryBackoff {
  /** Upper bound of the first delay, in seconds. */
  readonly baseSeconds: number;
  /** Upper bound of every delay, in seconds: a message waits at most this long after a dependency recovers. */
  readonly maxSeconds: number;
}

/** The backoff every consumed queue uses (see {@link RetryBackoff}). */
export const RETRY_BACKOFF: RetryBackoff = { baseSeconds: 2, maxSeconds: 120 };

/**
 * Receives a message may take that are not failures of its own, added to the redrive count: a consumer
 * that stopped and released it, a long poll that was cut short after SQS had handed it out, a delete that
 * did not reach SQS. Each makes SQS count one more receive without a handler having failed.
 */
export const SPARE_RECEIVES = 3;

/**
 * On this receive (or later) a message that failed for a reason of its own — its handler threw while the
 * consumer's dependencies were healthy — goes to the dead-letter queue at once, instead of waiting out the
 * retry window: with the backoff above that is some 15-30 s after its first failure. A message that fails
 * because a dependency is down is retried for the whole window.
 */
export const POISON_RECEIVE_COUNT = 5;

/** Largest `retryWindowMinutes` (12 hours): beyond it the redrive count would pass SQS's limit of 1000. */
export const MAX_RETRY_WINDOW_MINUTES = 720;

/** The retry behaviour of one consumed queue. */
export interface RetryPolicy {
  /** The window the policy was derived from, in minutes. */
  readonly retryWindowMinutes: number;
  /**
   * The queue's redrive `maxReceiveCount`: enough failed receives for the shortest backoff (every delay at
   * its lower bound) to add up to the window, plus {@link SPARE_RECEIVES}.
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
   */
  readonly maxReceiveCount: number;
  readonly backoff: RetryBackoff;
  /** See {@link POISON_RECEIVE_COUNT}. */
  readonly poisonReceiveCount: number;
}

/** Upper bound of the delay after receive `receiveCount` (from 1), in seconds. */
export function retryDelayBoundSeconds(receiveCount: number, backoff: RetryBackoff = RETRY_BACKOFF): number {
  return Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** Math.max(0, receiveCount - 1));
}

/**
 * The delay after receive `receiveCount`: uniform in `[bound/2, bound]`, whole seconds rounded up.
 * `random` is a number in [0, 1) (tests pass 0 or 0.999 for the bounds).
 */
export function retryDelaySeconds(
  receiveCount: number,
  backoff: RetryBackoff = RETRY_BACKOFF,
  random: number = Math.random(),
): number {
  const bound = retryDelayBoundSeconds(receiveCount, backoff);
  return Math.ceil(bound / 2 + (random * bound) / 2);
}

/**
 * The redrive count and backoff of a queue whose failing messages are retried for `retryWindowMinutes`.
 * @example retryPolicy(15) // { maxReceiveCount: 23, backoff: { baseSeconds: 2, maxSeconds: 120 }, ... }
 */
export function retryPolicy(retryWindowMinutes: number): RetryPolicy {
  const windowSeconds = retryWindowMinutes * 60;
  let failures = 0;
  let shortest = 0;
  while (shortest < windowSeconds) {
    failures++;
    shortest += Math.ceil(retryDelayBoundSeconds(failures) / 2);
  }
  return {
    retryWindowMinutes,
    maxReceiveCount: failures + SPARE_RECEIVES,
    backoff: RETRY_BACKOFF,
    poisonReceiveCount: POISON_RECEIVE_COUNT,
  };
}
