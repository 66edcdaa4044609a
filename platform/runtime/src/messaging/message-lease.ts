/**
 * The consumer's hold on one received message: the heartbeat that keeps it invisible while its handler
 * runs, and the change of visibility that ends the hold (a release, with or without backoff).
 *
 * Every visibility change of a message goes through its lease, one at a time. A heartbeat still in flight
 * when the message is released would otherwise reach SQS after the release and override its backoff (SQS
 * applies whichever call arrives last), making a message that should wait minutes invisible for one more
 * visibility timeout, or one released at shutdown wait instead of moving to another replica at once.
 *
 * SQS keeps a message invisible for at most 12 hours after it was received, however often its visibility
 * is changed, and refuses a change beyond that; the lease never asks for more than what is left.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
 */
import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { MAX_VISIBILITY_SECONDS } from '@flotilla/model';
import { withAwsDeadline } from '../wiring/aws-deadline.js';
import { errorMessage, type Logger } from '../kit.js';

/** Options of a {@link MessageLease}. */
export interface LeaseOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly message: Message;
  /** What each heartbeat extends the visibility to, in seconds (the queue's visibility timeout). */
  readonly visibilitySeconds: number;
  /** Heartbeat period in milliseconds; 0 turns the heartbeat off. */
  readonly heartbeatMs: number;
  /** Deadline of each ChangeMessageVisibility call, in milliseconds. */
  readonly callTimeoutMs: number;
  readonly log: Logger;
  /** Told of every heartbeat that failed (after it was logged), e.g. to count it. */
  readonly onHeartbeatFailure?: (err: unknown) => void;
}

export class MessageLease {
  readonly #o: LeaseOptions;
  readonly #receivedAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: Promise<void> | undefined;
  #ended = false;

  constructor(options: LeaseOptions) {
    this.#o = options;
    if (options.heartbeatMs > 0) this.#timer = setInterval(() => this.#beat(), options.heartbeatMs);
  }

  /** True once {@link end} or {@link release} was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Stops the heartbeat and waits for the one in flight, if any: afterwards nothing of this lease changes the
   * message's visibility. Idempotent.
   */
  async end(): Promise<void> {
    this.#ended = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#heartbeat;
  }

  /**
   * Ends the lease, then makes the message visible again after `seconds` (0: at once; at most what is left of
   * its 12 hours). Resolves false, after logging why, when SQS could not be told: the message then reappears
   * when its current visibility timeout ends, later than asked but not lost.
   */
  async release(seconds: number, why: string): Promise<boolean> {
    await this.end();
    const visibility = Math.max(0, Math.min(Math.round(seconds), this.#secondsLeft()));
    try {
      await this.#change(visibility);
      return true;
    } catch (err) {
      this.#o.log.warn(
        { err: errorMessage(err), messageId: this.#o.message.MessageId, visibility },
        `could not release the message (${why}); it reappears when its visibility timeout ends`,
      );
      return false;
    }
  }

  #beat(): void {
    // One heartbeat at a time: one that hangs is cut by its deadline, and the next tick tries again.
    if (this.#ended || this.#heartbeat !== undefined) return;
    const seconds = Math.min(this.#o.visibilitySeconds, this.#secondsLeft());
    if (seconds <= 0) return;
    this.#heartbeat = this.#change(seconds)
      .catch((err: unknown) => {
        this.#o.log.warn(
          { err: errorMessage(err), messageId: this.#o.message.MessageId },
          'visibility heartbeat failed; the message may be delivered again if its handler outlives its visibility timeout',
        );
        this.#o.onHeartbeatFailure?.(err);
      })
      .finally(() => (this.#heartbeat = undefined));
  }

  /** What is left of the 12 hours after the receipt, less a second of margin for the call's own latency. */
  #secondsLeft(): number {
    return Math.floor(MAX_VISIBILITY_SECONDS - (performance.now() - this.#receivedAt) / 1000) - 1;
  }

  async #change(seconds: number): Promise<void> {
    const change = new ChangeMessageVisibilityCommand({
      QueueUrl: this.#o.queueUrl,
      ReceiptHandle: this.#o.message.ReceiptHandle,
      VisibilityTimeout: seconds,
    });
    await withAwsDeadline('SQS ChangeMessageVisibility', this.#o.callTimeoutMs, (abortSignal) =>
      this.#o.sqs.send(change, { abortSignal }),
    );
  }
}
