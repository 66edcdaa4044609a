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

/**
 * Thrown by a handler (or by what it calls) to say "a dependency I need is down; this message is not at
 * fault": the consumer releases the message with backoff, pauses receiving until the dependency is back,
 * and never counts the failure towards dead-lettering the message early (it is retried for the queue's
 * whole retry window). The kit's own errors that mean the same (a peer's circuit open or the peer
 * unreachable, the database unreachable, SQS/SNS not answering) are recognised without it.
 */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  constructor(
    /** What is down, as an operator would name it, e.g. `database` or `peer inventory`. */
    readonly dependency: string,
    message = `${dependency} is unavailable`,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The reason a handler's `signal` aborts when the handler runs past its deadline. */
export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError';
  constructor(
    readonly queue: string,
    readonly timeoutSeconds: number,
  ) {
    super(
      `the handler of ${queue} ran past its deadline of ${timeoutSeconds} s; its message is released and retried ` +
        'after a backoff. Make the handler honour ctx.signal, or raise handlerTimeoutSeconds in the subscription ' +
        '(services/<name>/service.ts) if the work really takes that long.',
    );
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
