/**
 * The queue consumer. Receive loops long-poll SQS while there is free capacity: the limit is on messages
 * in flight, not on batches, so one slow message never holds back the next receive. Each message is
 * parsed and validated, then handled inside a CONSUMER span that continues the producer's trace, while a
 * heartbeat keeps it invisible. Then it is:
 * - handled: deleted (batched);
 * - invalid, or failed with {@link NonRetryableError}: sent to the dead-letter queue at once with its
 *   reason, then deleted;
 * - failed otherwise: made visible again after an exponential backoff (by ApproximateReceiveCount); the
 *   queue's redrive policy moves it to the dead-letter queue after maxReceiveCount.
 * `stop()` stops receiving, lets handlers finish until a deadline, releases the messages of those that do
 * not (visibility 0) and flushes pending deletes. Nothing is deleted that was not processed.
 */
import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { z } from 'zod';
import { extractTraceContext, str, stringAttributes, withAttributes } from './attributes.js';
import { exponentialDelay, sleep } from './backoff.js';
import { BatchDeleter, releaseMessages } from './deleter.js';
import { MAX_BATCH_ENTRIES } from './delivery.js';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES, type EventEnvelope, type EventSchemas } from './envelope.js';
import { EventValidationError, NonRetryableError } from './errors.js';
import { MESSAGING_TRACER, shortName } from './publisher.js';
import { parseIncoming } from './validation.js';
import { errorMessage, type Health, type Lifecycle, type Logger } from '../kit.js';

/** A received event: the envelope of one of the schema map's types, discriminated by `type`. */
export type ConsumedEvent<S extends EventSchemas> = {
  [K in keyof S & string]: EventEnvelope<z.infer<S[K]>, K>;
}[keyof S & string];

/** What a handler gets besides the event. */
export interface MessageContext {
  /** The SQS message id (differs per delivery path; de-duplicate on the envelope's `id`). */
  readonly messageId: string;
  /** How many times SQS has delivered this message (ApproximateReceiveCount), 1 on the first delivery. */
  readonly receiveCount: number;
  /** A child logger with the event id, type and message id; log lines carry the span's trace id. */
  readonly log: Logger;
  /** The CONSUMER span of this delivery, child of the producer's span. Active while the handler runs. */
  readonly span: Span;
  /** Aborted when the consumer stops and the handler ran past the stop deadline (its message is released). */
  readonly signal: AbortSignal;
  /** The message's string attributes (event type, trace context, request id, ...). */
  readonly attributes: Readonly<Record<string, string>>;
}

export type MessageHandler<S extends EventSchemas> = (
  event: ConsumedEvent<S>,
  ctx: MessageContext,
) => Promise<void> | void;

export interface ConsumerOptions<S extends EventSchemas> {
  /** URL of the queue to consume (from `CONSUME_<KEY>_QUEUE_URL`). */
  readonly queueUrl: string;
  /**
   * URL of its dead-letter queue (from `CONSUME_<KEY>_DLQ_URL`), where invalid and non-retryable messages go
   * at once. Without it they are retried until the queue's redrive policy moves them.
   * @default - none
   */
  readonly dlqUrl?: string;
  /** Schemas of the event types this queue carries. */
  readonly schemas: S;
  readonly handler: MessageHandler<S>;
  readonly sqs: SQSClient;
  readonly log: Logger;
  /**
   * Messages handled at the same time.
   * @default 10
   */
  readonly concurrency?: number;
  /**
   * Messages per ReceiveMessage call (1-10).
   * @default 10
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
   */
  readonly batchSize?: number;
  /**
   * Receive loops running at once. More loops hide receive latency when concurrency is high.
   * @default ceil(concurrency / batchSize)
   */
  readonly receiveLoops?: number;
  /**
   * Long-poll wait (0-20 s).
   * @default 20
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
   */
  readonly waitTimeSeconds?: number;
  /**
   * Visibility timeout requested on receive, and what each heartbeat extends it to.
   * @default 30
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Heartbeat: while a handler runs, its message's visibility is extended every `intervalSeconds`.
   * `false` turns it off.
   * @default { intervalSeconds: visibilityTimeoutSeconds / 2 }
   */
  readonly heartbeat?: false | { readonly intervalSeconds?: number };
  /**
   * Delay before a failed message is delivered again: `baseSeconds * 2^(receiveCount-1)`, at most `maxSeconds`.
   * @default { baseSeconds: 2, maxSeconds: 300 }
   */
  readonly backoff?: { readonly baseSeconds?: number; readonly maxSeconds?: number };
  /**
   * Acknowledgements are deleted in batches of 10, or after this delay.
   * @default 10
   */
  readonly deleteDelayMs?: number;
  /**
   * How long `stop()` waits for running handlers before it releases their messages.
   * @default 5000
   */
  readonly stopTimeoutMs?: number;
  /** Registers `stop()` as a stop hook. @default - none */
  readonly lifecycle?: Lifecycle;
  /** Adds a readiness check that fails while the consumer is not running or cannot receive. @default - none */
  readonly health?: Health;
  /** @default - the global tracer provider's `@flotilla/runtime/messaging` tracer */
  readonly tracer?: Tracer;
}

export interface Consumer {
  /** Starts the receive loops (idempotent). */
  start(): void;
  /** Stops gracefully; see the module comment. Resolves when nothing of this consumer is left running. */
  stop(): Promise<void>;
  /** True between `start()` and the beginning of `stop()`. */
  readonly running: boolean;
  /** Messages currently being handled. */
  readonly inFlight: number;
}

interface InFlight {
  readonly message: Message;
  readonly abort: AbortController;
  /** Set when stop() released the message: the handler's outcome must not touch it any more. */
  released: boolean;
  done: Promise<void>;
}

/** Receive errors in a row after which readiness fails. */
const READINESS_RECEIVE_FAILURES = 3;
/** Pause after a failed ReceiveMessage: 200 ms, doubling per failure in a row, at most 5 s. */
const RECEIVE_RETRY = { baseMs: 200, maxMs: 5000 };

export function createConsumer<S extends EventSchemas>(options: ConsumerOptions<S>): Consumer {
  const concurrency = Math.max(1, options.concurrency ?? 10);
  const batchSize = Math.min(MAX_BATCH_ENTRIES, Math.max(1, options.batchSize ?? MAX_BATCH_ENTRIES));
  const loops = Math.max(1, options.receiveLoops ?? Math.ceil(concurrency / batchSize));
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const heartbeatMs =
    options.heartbeat === false ? 0 : (options.heartbeat?.intervalSeconds ?? visibility / 2) * 1000;
  const backoff = {
    baseMs: (options.backoff?.baseSeconds ?? 2) * 1000,
    maxMs: (options.backoff?.maxSeconds ?? 300) * 1000,
  };
  // Smallest free capacity worth a receive call: half a batch (or 1 for tiny limits), so receives are not
  // wasted on single messages while a whole batch is draining, yet one slow message never blocks.
  const minReceive = Math.max(1, Math.floor(Math.min(batchSize, concurrency) / 2));
  const queueName = shortName(options.queueUrl);
  const log = options.log.child({ queue: queueName });
  const tracer = options.tracer ?? trace.getTracer(MESSAGING_TRACER);
  const deleter = new BatchDeleter(options.sqs, options.queueUrl, log, options.deleteDelayMs ?? 10);

  let running = false;
  let stopping: Promise<void> | undefined;
  let receiveAbort = new AbortController();
  let reserved = 0;
  let receiveFailures = 0;
  let lastReceiveError = '';
  const inFlight = new Set<InFlight>();
  const loopPromises: Promise<void>[] = [];
  let wake: (() => void) | undefined;
  let capacityChanged = new Promise<void>((r) => (wake = r));

  function signalCapacity(): void {
    wake?.();
    capacityChanged = new Promise<void>((r) => (wake = r));
  }
  const free = (): number => concurrency - inFlight.size - reserved;

  async function receiveLoop(): Promise<void> {
    while (running) {
      // Receive once minReceive messages fit, or all that the other loops' reservations leave; at least 1.
      if (free() < Math.max(1, Math.min(minReceive, concurrency - reserved))) {
        await capacityChanged;
        continue;
      }
      const want = Math.min(batchSize, free());
      reserved += want;
      let messages: Message[] = [];
      try {
        const out = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: want,
            WaitTimeSeconds: waitTimeSeconds,
            VisibilityTimeout: visibility,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
          { abortSignal: receiveAbort.signal },
        );
        messages = out.Messages ?? [];
        receiveFailures = 0;
      } catch (err) {
        if (!running) break;
        receiveFailures++;
        lastReceiveError = errorMessage(err);
        log.warn({ err: lastReceiveError, failures: receiveFailures }, 'ReceiveMessage failed; retrying');
        await sleep(exponentialDelay(receiveFailures, RECEIVE_RETRY), receiveAbort.signal);
      } finally {
        reserved -= want;
      }
      for (const message of messages) track(message);
      signalCapacity();
    }
  }

  function track(message: Message): void {
    const entry: InFlight = {
      message,
      abort: new AbortController(),
      released: false,
      done: Promise.resolve(),
    };
    inFlight.add(entry);
    entry.done = processMessage(entry)
      .catch((err: unknown) =>
        log.error({ err: errorMessage(err), messageId: message.MessageId }, 'message processing failed'),
      )
      .finally(() => {
        inFlight.delete(entry);
        signalCapacity();
      });
  }

  async function processMessage(entry: InFlight): Promise<void> {
    const { message } = entry;
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    const attributes = stringAttributes(message.MessageAttributes);
    const parent = extractTraceContext(attributes);
    const span = tracer.startSpan(
      `process ${queueName}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'aws_sqs',
          'messaging.operation.type': 'process',
          'messaging.destination.name': queueName,
          'messaging.message.id': message.MessageId ?? '',
          'messaging.aws_sqs.receive_count': receiveCount,
        },
      },
      parent,
    );
    const spanContext = trace.setSpan(parent, span);
    const timer = heartbeatMs > 0 ? setInterval(() => void heartbeat(entry), heartbeatMs) : undefined;
    try {
      let event: EventEnvelope;
      try {
        event = parseIncoming(options.schemas, message.Body, queueName);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
        await deadLetter(entry, `invalid-message: ${errorMessage(err)}`);
        return;
      }
      span.setAttribute('flotilla.event.type', event.type);
      span.setAttribute('flotilla.event.id', event.id);
      const ctxLog = log.child({
        eventId: event.id,
        eventType: event.type,
        messageId: message.MessageId,
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        ...(attributes[MESSAGE_ATTRIBUTES.requestId]
          ? { requestId: attributes[MESSAGE_ATTRIBUTES.requestId] }
          : {}),
      });
      try {
        await otelContext.with(spanContext, () =>
          options.handler(event as ConsumedEvent<S>, {
            messageId: message.MessageId ?? '',
            receiveCount,
            log: ctxLog,
            span,
            signal: entry.abort.signal,
            attributes,
          }),
        );
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
        if (entry.released) return;
        if (err instanceof NonRetryableError || err instanceof EventValidationError) {
          ctxLog.warn(
            { err: errorMessage(err) },
            'non-retryable failure; moving the message to the dead-letter queue',
          );
          await deadLetter(entry, `non-retryable: ${errorMessage(err)}`);
        } else {
          const delay = Math.round(exponentialDelay(receiveCount, backoff) / 1000);
          ctxLog.warn(
            { err: errorMessage(err), receiveCount, retryInSeconds: delay },
            'handler failed; retrying later',
          );
          await changeVisibility(entry, delay);
        }
        return;
      }
      if (!entry.released) deleter.delete(message.ReceiptHandle ?? '');
    } finally {
      if (timer) clearInterval(timer);
      span.end();
    }
  }

  async function heartbeat(entry: InFlight): Promise<void> {
    if (!entry.released) await changeVisibility(entry, visibility, 'visibility heartbeat failed');
  }

  async function changeVisibility(
    entry: InFlight,
    seconds: number,
    failure = 'could not delay the retry',
  ): Promise<void> {
    try {
      await options.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: options.queueUrl,
          ReceiptHandle: entry.message.ReceiptHandle,
          VisibilityTimeout: Math.min(43_200, Math.max(0, seconds)),
        }),
      );
    } catch (err) {
      // The message becomes visible when its current timeout ends instead; nothing is lost.
      log.warn({ err: errorMessage(err), messageId: entry.message.MessageId }, failure);
    }
  }

  async function deadLetter(entry: InFlight, reason: string): Promise<void> {
    const { message } = entry;
    if (!options.dlqUrl) {
      log.error(
        { messageId: message.MessageId, reason },
        'no dead-letter queue configured; the message is retried until the redrive policy moves it',
      );
      await changeVisibility(entry, Math.round(backoff.maxMs / 1000));
      return;
    }
    try {
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.dlqUrl,
          MessageBody: message.Body ?? '',
          MessageAttributes: withAttributes(message.MessageAttributes, {
            [FAILURE_ATTRIBUTES.reason]: str(reason.slice(0, 1000)),
            [FAILURE_ATTRIBUTES.at]: str(new Date().toISOString()),
            [FAILURE_ATTRIBUTES.queue]: str(queueName),
          }),
        }),
      );
    } catch (err) {
      log.error(
        { err: errorMessage(err), messageId: message.MessageId },
        'could not dead-letter the message; it will be retried',
      );
      await changeVisibility(entry, Math.round(exponentialDelay(1, backoff) / 1000));
      return;
    }
    log.warn({ messageId: message.MessageId, reason }, 'message moved to the dead-letter queue');
    if (!entry.released) deleter.delete(message.ReceiptHandle ?? '');
  }

  async function release(entries: InFlight[]): Promise<void> {
    for (let i = 0; i < entries.length; i += MAX_BATCH_ENTRIES) {
      const chunk = entries.slice(i, i + MAX_BATCH_ENTRIES);
      try {
        await releaseMessages(
          options.sqs,
          options.queueUrl,
          chunk.map((e) => e.message),
        );
      } catch (err) {
        log.warn(
          { err: errorMessage(err), count: chunk.length },
          'could not release messages; they reappear when their visibility timeout ends',
        );
      }
    }
  }

  async function stop(): Promise<void> {
    running = false;
    receiveAbort.abort();
    signalCapacity();
    await Promise.allSettled(loopPromises);
    loopPromises.length = 0;
    const deadline = options.stopTimeoutMs ?? 5000;
    const all = Promise.allSettled([...inFlight].map((e) => e.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadline))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const late = [...inFlight];
      for (const e of late) {
        e.released = true;
        e.abort.abort(new Error(`consumer of ${queueName} stopped`));
      }
      log.warn(
        { count: late.length, deadlineMs: deadline },
        'handlers still running at the stop deadline; releasing their messages',
      );
      await release(late);
    }
    await deleter.flush();
    log.info('consumer stopped');
  }

  const consumer: Consumer = {
    start() {
      if (running || stopping) return;
      running = true;
      receiveAbort = new AbortController();
      for (let i = 0; i < loops; i++) loopPromises.push(receiveLoop());
      log.info({ concurrency, batchSize, loops }, 'consumer started');
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
    get running() {
      return running;
    },
    get inFlight() {
      return inFlight.size;
    },
  };

  options.lifecycle?.onStop(`consumer ${queueName}`, () => consumer.stop());
  options.health?.addReadinessCheck(`consumer ${queueName}`, () => {
    if (!running) throw new Error(`consumer of ${queueName} is not running`);
    if (receiveFailures >= READINESS_RECEIVE_FAILURES) {
      throw new Error(
        `consumer of ${queueName} cannot receive (${receiveFailures} failures in a row): ${lastReceiveError}`,
      );
    }
  });
  return consumer;
}
