import type { EventEnvelope } from '../messaging/envelope.js';

/** Where an outbox message goes: an SNS topic (`publish`) or an SQS queue (`send`). */
export type OutboxDestinationKind = 'topic' | 'queue';

/** One pending outbox row, as handed to the relay's {@link OutboxPublish} function. */
export interface OutboxMessage {
  /** Position in the outbox; the relay hands messages over in ascending order. Decimal string (bigint). */
  readonly sequence: string;
  readonly kind: OutboxDestinationKind;
  /**
   * The destination as the producer named it: for a topic its key in the model (or its ARN), for a queue
   * `service/queue` (or its URL). The publish function resolves it (e.g. via `DestinationResolver`).
   */
  readonly destination: string;
  /** The envelope exactly as written in the producer's transaction; its JSON is the message body. */
  readonly envelope: EventEnvelope;
  /** W3C trace context of the producer at write time, so the publish continues the producer's trace. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Request id of the request that caused the event. */
  readonly requestId?: string;
  /** Failed publish attempts so far (0 on the first). */
  readonly attempts: number;
}

/** What a publish function reports: the envelope ids that were NOT delivered (retried later). */
export interface OutboxPublishResult {
  readonly failedIds: readonly string[];
  /** Optional reason per failed id, recorded in `flotilla_outbox.last_error` and logged. */
  readonly reasons?: Readonly<Record<string, string>>;
  /**
   * Failed ids whose failure was the message's own fault: AWS answered `SenderFault` (too large, invalid
   * content or attributes) or the destination is not known. Retrying the same message cannot help; after
   * `maxSenderFaults` such failures the relay parks the row as a dead letter. Every other failure
   * (throttling, timeouts, connection errors, server faults) is retried until delivered.
   * @default none
   */
  readonly senderFaults?: readonly string[];
}

/**
 * Delivers a batch of outbox messages (at most 10, in sequence order) and reports which failed. Throwing
 * counts as "all failed" (transiently). `signal` aborts when the relay's publish deadline passes; the relay
 * then counts the batch as failed transiently, whatever the call does afterwards. The messaging publisher's
 * `deliver` implements this after resolving destinations.
 */
export type OutboxPublish = (
  messages: readonly OutboxMessage[],
  /** Aborts at the relay's publish deadline (the relay always passes it). */
  signal?: AbortSignal,
) => Promise<OutboxPublishResult>;
