/**
 * The queue consumer. Receive loops long-poll SQS while there is free capacity: the limit is on messages
 * in flight, not on batches, so one slow message never holds back the next receive. Each message is
 * parsed and validated, then handled inside a CONSUMER span that continues the producer's trace, while its
 * lease (message-lease.ts) keeps it invisible with a heartbeat. Then it is:
 * - handled: deleted (batched);
 * - invalid, or failed with {@link NonRetryableError}: sent to the dead-letter queue at once with its
 *   reason, then deleted;
 * - failed because a dependency is down (see dependency.ts): released with a jittered backoff, and
 *   receiving pauses until the dependency is back (dependency-gate.ts); such a message is retried for the
 *   queue's whole retry window, after which the queue's redrive policy moves it to the dead-letter queue;
 * - failed otherwise: released with a jittered backoff; from receive `poisonReceiveCount` on, while the
 *   dependencies are healthy, it is poison and goes to the dead-letter queue with its reason;
 * - still running at its deadline (`handlerTimeoutSeconds`): its `signal` aborts, its heartbeat stops, it
 *   is released with backoff like a failure, and its slot is free for the next message.
 *
 * `stop()` stops receiving (a long poll in flight gets a moment to bring what SQS already handed out, so it
 * is handled rather than left invisible), lets handlers finish, aborts the `signal` of those still running
 * after `stopTimeoutMs` and keeps waiting: it resolves only when every handler has settled, so nothing the
 * handlers use is closed under them, and no message is visible to another replica while a handler here
 * still runs it (each keeps its heartbeat until it settles). A handler that settles after the abort with an
 * error has its message released at once, for another replica. Nothing is deleted that was not processed.
 *
 * Health: the consumer's state (running, paused for a dependency, failing receives) is a readiness check
 * that reports without failing readiness (HTTP traffic does not need the consumer), logged when it changes,
 * and in the metrics of consumer-metrics.ts.
 */
import { ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { POISON_RECEIVE_COUNT, RETRY_BACKOFF, retryDelaySeconds, type RetryBackoff } from '@flotilla/model';
import {
  context as otelContext,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { z } from 'zod';
import { extractTraceContext, str, stringAttributes, withAttributes } from './attributes.js';
import { exponentialDelay, sleep } from './backoff.js';
import { consumerMetrics } from './consumer-metrics.js';
import { BatchDeleter } from './deleter.js';
import { MAX_BATCH_ENTRIES } from './delivery.js';
import { failedDependency } from './dependency.js';
import { DependencyGate } from './dependency-gate.js';
import { FAILURE_ATTRIBUTES, MESSAGE_ATTRIBUTES, type EventEnvelope, type EventSchemas } from './envelope.js';
import { EventValidationError, HandlerTimeoutError, NonRetryableError } from './errors.js';
import { MessageLease } from './message-lease.js';
import { MESSAGING_TRACER, shortName } from './publisher.js';
import { parseIncoming } from './validation.js';
import { withAwsDeadline } from '../wiring/aws-deadline.js';
import { errorMessage, type Health, type Lifecycle, type Logger, type ReadinessCheck } from '../kit.js';

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
  /**
   * Aborted when the handler runs past its deadline (reason: a `HandlerTimeoutError`; its message is released
   * and retried), or when the consumer stops and the handler is still running after `stopTimeoutMs`. Pass it
   * to what the handler awaits, so the handler ends soon after.
   */
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
   * URL of its dead-letter queue (from `CONSUME_<KEY>_DLQ_URL`), where invalid, non-retryable and poison
   * messages go at once. Without it they are retried until the queue's redrive policy moves them.
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
   * Visibility timeout requested on receive, and what each heartbeat extends it to (the model's
   * `visibilityTimeoutSeconds`, from `CONSUME_<KEY>_VISIBILITY_TIMEOUT_SECONDS`).
   * @default 30
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * How long a handler may run on one message (the model's `handlerTimeoutSeconds`); see the module comment.
   * @default - visibilityTimeoutSeconds
   */
  readonly handlerTimeoutSeconds?: number;
  /**
   * Heartbeat: while a handler runs, its message's visibility is extended every `intervalSeconds`.
   * `false` turns it off.
   * @default { intervalSeconds: visibilityTimeoutSeconds / 2 }
   */
  readonly heartbeat?: false | { readonly intervalSeconds?: number };
  /**
   * Delay before a failed message is delivered again: uniform in `[d/2, d]`, `d = baseSeconds * 2^(receiveCount-1)`
   * capped at `maxSeconds` (see `retryPolicy` in @flotilla/model, which derives it with the redrive count from
   * the queue's retry window).
   * @default RETRY_BACKOFF of @flotilla/model ({ baseSeconds: 2, maxSeconds: 120 })
   */
  readonly backoff?: Partial<RetryBackoff>;
  /**
   * From this receive on, a message whose handler fails while the dependencies are healthy is dead-lettered
   * as poison.
   * @default POISON_RECEIVE_COUNT of @flotilla/model (5)
   */
  readonly poisonReceiveCount?: number;
  /**
   * Checks of the dependencies the handlers need (e.g. the inbox's database), by name. While one fails a
   * handler failure counts as that dependency's (no poison), and receiving stays paused until all pass.
   * @default - none (a dependency failure is recognised from the handler's error; see dependency.ts)
   */
  readonly dependencies?: Readonly<Record<string, ReadinessCheck>>;
  /**
   * Pauses of receiving after a dependency failure: the first, doubling per pause in a row, up to the last.
   * @default { baseMs: 1000, maxMs: 30000 }
   */
  readonly dependencyPause?: { readonly baseMs?: number; readonly maxMs?: number };
  /**
   * Deadline of each SQS call the consumer makes (ChangeMessageVisibility, SendMessage to the DLQ), retries
   * included, whatever deadlines the client has; a receive gets `waitTimeSeconds` more.
   * @default 20000
   */
  readonly callTimeoutMs?: number;
  /**
   * Acknowledgements are deleted in batches of 10, or after this delay.
   * @default 10
   */
  readonly deleteDelayMs?: number;
  /**
   * How long `stop()` lets handlers run before it aborts their `signal` (it then still waits for them).
   * @default 5000
   */
  readonly stopTimeoutMs?: number;
  /**
   * How long `stop()` waits for a long poll in flight to answer before it aborts it: a poll that SQS already
   * handed messages to brings them in the meantime (they are handled), instead of leaving them invisible for
   * a visibility timeout with one receive counted against them.
   * @default 1000
   */
  readonly receiveGraceMs?: number;
  /** Registers `stop()` as a stop hook. @default - none */
  readonly lifecycle?: Lifecycle;
  /** Reports the consumer's state in `/readyz` (without failing readiness). @default - none */
  readonly health?: Health;
  /** @default - the global tracer provider's `@flotilla/runtime/messaging` tracer */
  readonly tracer?: Tracer;
  /** @default - the global meter provider's `@flotilla/runtime` meter */
  readonly meter?: Meter;
}

export interface Consumer {
  /** Starts the receive loops (idempotent). */
  start(): void;
  /** Stops gracefully; see the module comment. Resolves when no handler of this consumer is left running. */
  stop(): Promise<void>;
  /** True between `start()` and the beginning of `stop()`. */
  readonly running: boolean;
  /** Messages holding a slot (being handled, and not yet past their deadline). */
  readonly inFlight: number;
}

/** One received message, from its receipt until its handler settled. */
interface Delivery {
  readonly message: Message;
  readonly receiveCount: number;
  readonly lease: MessageLease;
  readonly abort: AbortController;
  /** Set when the consumer took the message back from a handler still running: its outcome no longer decides. */
  takenBack?: 'deadline';
  /** Set when stop() aborted the handler's signal. */
  stopAborted?: boolean;
  /** Set once the delivery no longer holds a slot. */
  slotFreed?: boolean;
}

/** Receive errors in a row after which the consumer reports it cannot receive. */
const REPORT_RECEIVE_FAILURES = 3;
/** Pause after a failed ReceiveMessage: 200 ms, doubling per failure in a row, at most 5 s. */
const RECEIVE_RETRY = { baseMs: 200, maxMs: 5000 };

export function createConsumer<S extends EventSchemas>(options: ConsumerOptions<S>): Consumer {
  const concurrency = Math.max(1, options.concurrency ?? 10);
  const batchSize = Math.min(MAX_BATCH_ENTRIES, Math.max(1, options.batchSize ?? MAX_BATCH_ENTRIES));
  const loops = Math.max(1, options.receiveLoops ?? Math.ceil(concurrency / batchSize));
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const handlerTimeoutMs = (options.handlerTimeoutSeconds ?? visibility) * 1000;
  const heartbeatMs =
    options.heartbeat === false ? 0 : (options.heartbeat?.intervalSeconds ?? visibility / 2) * 1000;
  const backoff: RetryBackoff = {
    baseSeconds: options.backoff?.baseSeconds ?? RETRY_BACKOFF.baseSeconds,
    maxSeconds: options.backoff?.maxSeconds ?? RETRY_BACKOFF.maxSeconds,
  };
  const poisonReceiveCount = options.poisonReceiveCount ?? POISON_RECEIVE_COUNT;
  const callTimeoutMs = options.callTimeoutMs ?? 20_000;
  const receiveTimeoutMs = waitTimeSeconds * 1000 + callTimeoutMs;
  const minReceive = smallestReceive(batchSize, concurrency);
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
  /** Deliveries holding a slot. */
  const slots = new Set<Delivery>();
  /** Every delivery whose processing has not settled, including handlers past their deadline. */
  const processing = new Set<Promise<void>>();
  const loopPromises: Promise<void>[] = [];
  let wake: (() => void) | undefined;
  let capacityChanged = new Promise<void>((r) => (wake = r));

  const gate = new DependencyGate({
    checks: options.dependencies ?? {},
    basePauseMs: options.dependencyPause?.baseMs ?? 1000,
    maxPauseMs: options.dependencyPause?.maxMs ?? 30_000,
    checkTimeoutMs: 2000,
    log,
  });
  const meter = options.meter ?? metrics.getMeter('@flotilla/runtime');
  const counters = consumerMetrics(meter, queueName, () => ({
    paused: gate.closure !== undefined,
    receiveFailuresInARow: receiveFailures,
  }));

  function signalCapacity(): void {
    wake?.();
    capacityChanged = new Promise<void>((r) => (wake = r));
  }
  /** After a dependency pause, one message at a time until one is handled. */
  const limit = (): number => (gate.probing ? 1 : concurrency);
  const free = (): number => limit() - slots.size - reserved;

  async function receiveLoop(): Promise<void> {
    while (running) {
      await gate.whenOpen();
      if (!running) break;
      // Receive once minReceive messages fit, or all that the other loops' reservations leave; at least 1.
      if (free() < Math.max(1, Math.min(minReceive, limit() - reserved))) {
        await capacityChanged;
        continue;
      }
      const want = Math.min(batchSize, free());
      reserved += want;
      let messages: Message[] = [];
      try {
        const receive = new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: want,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: visibility,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        });
        // A long poll answers after up to WaitTimeSeconds: its deadline (and its attempt's) is that much longer.
        const out = await withAwsDeadline(
          `SQS ReceiveMessage on ${queueName}`,
          receiveTimeoutMs,
          (abortSignal) => options.sqs.send(receive, { abortSignal, requestTimeout: receiveTimeoutMs }),
          receiveAbort.signal,
        );
        messages = out.Messages ?? [];
        if (receiveFailures >= REPORT_RECEIVE_FAILURES)
          log.info({ failures: receiveFailures }, 'ReceiveMessage works again');
        receiveFailures = 0;
      } catch (err) {
        if (!running) break;
        receiveFailures++;
        lastReceiveError = errorMessage(err);
        counters.receiveFailed((err as Error | undefined)?.name ?? 'Error');
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
    const delivery: Delivery = {
      message,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
      abort: new AbortController(),
      lease: new MessageLease({
        sqs: options.sqs,
        queueUrl: options.queueUrl,
        message,
        visibilitySeconds: visibility,
        heartbeatMs,
        callTimeoutMs,
        log,
        onHeartbeatFailure: () => counters.heartbeatFailed(),
      }),
    };
    slots.add(delivery);
    const done = processMessage(delivery)
      .catch((err: unknown) =>
        log.error({ err: errorMessage(err), messageId: message.MessageId }, 'message processing failed'),
      )
      .finally(() => {
        processing.delete(done);
        freeSlot(delivery);
      });
    processing.add(done);
  }

  function freeSlot(delivery: Delivery): void {
    if (delivery.slotFreed) return;
    delivery.slotFreed = true;
    slots.delete(delivery);
    signalCapacity();
  }

  async function processMessage(delivery: Delivery): Promise<void> {
    const { message, receiveCount } = delivery;
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
    try {
      let event: EventEnvelope;
      try {
        event = parseIncoming(options.schemas, message.Body, queueName);
      } catch (err) {
        failSpan(span, err);
        await deadLetter(delivery, `invalid-message: ${errorMessage(err)}`);
        return;
      }
      span.setAttribute('flotilla.event.type', event.type);
      span.setAttribute('flotilla.event.id', event.id);
      // The message's logger (its ids bound) is made on first use: pino serialises a child's bindings when
      // the child is made, and most messages are handled without logging through it.
      let messageLog: Logger | undefined;
      const ctxLog = (): Logger =>
        (messageLog ??= log.child({
          eventId: event.id,
          eventType: event.type,
          messageId: message.MessageId,
          trace_id: span.spanContext().traceId,
          span_id: span.spanContext().spanId,
          ...(attributes[MESSAGE_ATTRIBUTES.requestId]
            ? { requestId: attributes[MESSAGE_ATTRIBUTES.requestId] }
            : {}),
        }));
      // async: a handler that throws synchronously rejects like one that fails later.
      const handling = otelContext.with(trace.setSpan(parent, span), async () =>
        options.handler(event as ConsumedEvent<S>, {
          messageId: message.MessageId ?? '',
          receiveCount,
          get log() {
            return ctxLog();
          },
          span,
          signal: delivery.abort.signal,
          attributes,
        }),
      );
      const outcome = await settleWithin(handling, handlerTimeoutMs);
      if (outcome === 'deadline') {
        await onDeadline(delivery, handling, span, ctxLog());
        return;
      }
      if (delivery.stopAborted) {
        // Once its signal aborted, a handler that returns cannot be told from one that gave up: release the
        // message rather than delete what may not be done (at least once; the inbox makes it harmless).
        await release(delivery, ctxLog(), outcome.ok ? 'returned' : errorMessage(outcome.error));
        return;
      }
      if (outcome.ok) {
        gate.succeeded();
        deleter.delete(message.ReceiptHandle ?? '');
        counters.message('handled');
        return;
      }
      failSpan(span, outcome.error);
      await onFailure(delivery, outcome.error, ctxLog());
    } finally {
      await delivery.lease.end();
      span.end();
    }
  }

  /** The handler is still running at its deadline: take its message back, then wait for it to settle. */
  async function onDeadline(
    delivery: Delivery,
    handling: Promise<void>,
    span: Span,
    ctxLog: Logger,
  ): Promise<void> {
    const timeout = new HandlerTimeoutError(queueName, handlerTimeoutMs / 1000);
    delivery.takenBack = 'deadline';
    delivery.abort.abort(timeout);
    counters.handlerTimedOut();
    failSpan(span, timeout);
    ctxLog.warn({ deadlineSeconds: handlerTimeoutMs / 1000 }, timeout.message);
    if (delivery.stopAborted) await release(delivery, ctxLog, 'past its deadline');
    else await onFailure(delivery, timeout, ctxLog);
    freeSlot(delivery);
    // Still "processing": stop() waits for it, so nothing it uses is closed under it.
    const late = await handling.then(
      () => 'succeeded',
      (err: unknown) => `failed: ${errorMessage(err)}`,
    );
    ctxLog.warn({ outcome: late }, 'a handler past its deadline settled; its message was already given back');
  }

  async function onFailure(delivery: Delivery, err: unknown, ctxLog: Logger): Promise<void> {
    if (err instanceof NonRetryableError || err instanceof EventValidationError) {
      ctxLog.warn(
        { err: errorMessage(err) },
        'non-retryable failure; moving the message to the dead-letter queue',
      );
      await deadLetter(delivery, `non-retryable: ${errorMessage(err)}`);
      return;
    }
    const dependency = failedDependency(err) ?? (await gate.failingCheck())?.dependency;
    if (dependency === undefined) gate.succeeded();
    else gate.close(dependency, errorMessage(err));
    if (dependency === undefined && delivery.receiveCount >= poisonReceiveCount) {
      ctxLog.warn(
        { err: errorMessage(err), receiveCount: delivery.receiveCount },
        'handler failed again with its dependencies healthy; moving the message to the dead-letter queue',
      );
      await deadLetter(
        delivery,
        `failed ${delivery.receiveCount} times with the dependencies healthy: ${errorMessage(err)}`,
      );
      return;
    }
    const delay = retryDelaySeconds(delivery.receiveCount, backoff);
    ctxLog.warn(
      {
        err: errorMessage(err),
        receiveCount: delivery.receiveCount,
        retryInSeconds: delay,
        ...(dependency !== undefined ? { dependency } : {}),
      },
      dependency !== undefined
        ? `dependency ${dependency} unavailable; retrying later`
        : 'handler failed; retrying later',
    );
    await delivery.lease.release(delay, 'retry after backoff');
    counters.message(delivery.takenBack === 'deadline' ? 'timed-out' : 'retried');
  }

  /** The consumer stopped the handler: not the message's failure. Another replica may take it at once. */
  async function release(delivery: Delivery, ctxLog: Logger, outcome: string): Promise<void> {
    ctxLog.info({ outcome }, 'handler stopped with the consumer; releasing its message');
    await delivery.lease.release(0, 'consumer stopped');
    counters.message('released');
  }

  async function deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const { message } = delivery;
    if (!options.dlqUrl) {
      log.error(
        { messageId: message.MessageId, reason },
        'no dead-letter queue configured; the message is retried until the redrive policy moves it',
      );
      await delivery.lease.release(backoff.maxSeconds, 'no dead-letter queue');
      return;
    }
    await delivery.lease.end();
    try {
      const send = new SendMessageCommand({
        QueueUrl: options.dlqUrl,
        MessageBody: message.Body ?? '',
        MessageAttributes: withAttributes(message.MessageAttributes, {
          [FAILURE_ATTRIBUTES.reason]: str(reason.slice(0, 1000)),
          [FAILURE_ATTRIBUTES.at]: str(new Date().toISOString()),
          [FAILURE_ATTRIBUTES.queue]: str(queueName),
        }),
      });
      await withAwsDeadline(`SQS SendMessage to ${shortName(options.dlqUrl)}`, callTimeoutMs, (abortSignal) =>
        options.sqs.send(send, { abortSignal }),
      );
    } catch (err) {
      log.error(
        { err: errorMessage(err), messageId: message.MessageId },
        'could not dead-letter the message; it will be retried',
      );
      await delivery.lease.release(retryDelaySeconds(1, backoff), 'dead-lettering failed');
      return;
    }
    log.warn({ messageId: message.MessageId, reason }, 'message moved to the dead-letter queue');
    deleter.delete(message.ReceiptHandle ?? '');
    counters.message('dead-lettered');
  }

  async function stop(): Promise<void> {
    running = false;
    gate.stop();
    signalCapacity();
    // A poll in flight may already hold messages SQS handed out: let it answer for a moment.
    const polls = Promise.allSettled(loopPromises);
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      polls,
      new Promise<void>((r) => (graceTimer = setTimeout(r, options.receiveGraceMs ?? 1000))),
    ]);
    clearTimeout(graceTimer);
    receiveAbort.abort();
    await polls;
    loopPromises.length = 0;
    const deadline = options.stopTimeoutMs ?? 5000;
    const all = (): Promise<unknown> => Promise.allSettled([...processing]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadline))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const late = [...slots].filter((d) => !d.abort.signal.aborted);
      log.warn(
        { count: processing.size, deadlineMs: deadline },
        'handlers still running at the stop deadline: their signal is aborted; waiting for them to settle',
      );
      for (const d of late) {
        d.stopAborted = true;
        d.abort.abort(new Error(`consumer of ${queueName} stopped`));
      }
      // Handlers that ignore their signal keep the service from closing what they use until the process
      // exits at its shutdown deadline, rather than running on without it.
      while (processing.size > 0) await all();
    }
    await deleter.flush();
    counters.close();
    log.info('consumer stopped');
  }

  function status(): void {
    if (!running) throw new Error(`consumer of ${queueName} is not running`);
    const closure = gate.closure;
    if (closure !== undefined) {
      throw new Error(
        `consumer of ${queueName} paused since ${new Date(closure.since).toISOString()}: dependency ` +
          `${closure.dependency} unavailable (${closure.reason})`,
      );
    }
    if (receiveFailures >= REPORT_RECEIVE_FAILURES) {
      throw new Error(
        `consumer of ${queueName} cannot receive (${receiveFailures} failures in a row): ${lastReceiveError}`,
      );
    }
  }

  const consumer: Consumer = {
    start() {
      if (running || stopping) return;
      running = true;
      receiveAbort = new AbortController();
      for (let i = 0; i < loops; i++) loopPromises.push(receiveLoop());
      log.info({ concurrency, batchSize, loops, handlerTimeoutMs, visibility }, 'consumer started');
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
    get running() {
      return running;
    },
    get inFlight() {
      return slots.size;
    },
  };

  options.lifecycle?.onStop(`consumer ${queueName}`, () => consumer.stop());
  // HTTP traffic does not need the consumer: its state shows in /readyz without failing it.
  options.health?.addReadinessCheck(`consumer ${queueName}`, status, { affectsReadiness: false });
  return consumer;
}

/**
 * Smallest free capacity worth a receive call. Each call costs about as much CPU as handling a few messages
 * (signing, HTTP, parsing), so a consumer whose concurrency holds two batches or more receives only whole
 * batches: the other slots stay busy while one batch's worth frees up. Below that, half a batch (or 1 for
 * tiny limits), so receives are not wasted on single messages while a batch drains, yet one slow message
 * never blocks the rest.
 */
function smallestReceive(batchSize: number, concurrency: number): number {
  if (concurrency >= 2 * batchSize) return batchSize;
  return Math.max(1, Math.floor(Math.min(batchSize, concurrency) / 2));
}

/** The handler's outcome, or 'deadline' when it did not settle within `ms`. */
async function settleWithin(
  work: Promise<void>,
  ms: number,
): Promise<{ ok: true } | { ok: false; error: unknown } | 'deadline'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function failSpan(span: Span, err: unknown): void {
  span.recordException(err as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
}
