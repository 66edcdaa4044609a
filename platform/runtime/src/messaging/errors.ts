/**
 * Errors of the messaging module. Each names the event, the place and what to do about it.
 */

/**
 * Thrown by a handler to say "retrying cannot help": the consumer moves the message to the dead-letter
 * queue at once, with this error's message as the `failure-reason` attribute, instead of redelivering it
 * until the queue's maxReceiveCount.
 */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** One problem found by an event schema: where in the event, and what is wrong. */
export interface EventIssue {
  /** Dotted path inside the envelope, e.g. `data.items.0.quantity`. */
  readonly path: string;
  readonly message: string;
}

/** An event or command that does not match its schema, or a message that is not a valid envelope. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  constructor(
    /** The event type, when known. */
    readonly eventType: string | undefined,
    readonly issues: readonly EventIssue[],
    context: string,
  ) {
    super(`${context}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

/** Why one message could not be delivered to SNS or SQS, after retries. */
export interface DeliveryFailure {
  /** The envelope id of the message. */
  readonly id: string;
  /** The topic ARN or queue URL. */
  readonly destination: string;
  /** AWS error code, e.g. `InvalidMessageContents`, or the error name for a failed call. */
  readonly code: string;
  readonly message: string;
  /** True when AWS blamed the request (retrying the same message cannot succeed). */
  readonly senderFault: boolean;
  /** Attempts made, including the first. */
  readonly attempts: number;
}

/** Thrown by `publish` and `send` when the message could not be delivered, after retries. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    readonly failure: DeliveryFailure,
    eventType: string,
  ) {
    super(
      `Could not deliver event ${eventType} (id ${failure.id}) to ${failure.destination} after ${failure.attempts} attempt(s): ` +
        `${failure.code}: ${failure.message}` +
        (failure.senderFault
          ? ' (AWS rejected the message itself; fix its content or the destination)'
          : ' (check that the destination exists and the service may use it)'),
    );
  }
}
