/**
 * The publisher: `publish(topic, type, data)` to SNS and `send(queue, type, data)` to SQS. Every event
 * is wrapped in the envelope, validated against its schema before it leaves, carried with its type and
 * trace context as attributes, and traced as a PRODUCER span. Concurrent calls to the same destination
 * are batched automatically (PublishBatch / SendMessageBatch, up to 10) without adding latency: a batch
 * leaves on the next turn of the event loop, or as soon as it is full.
 */
import {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { QueueTarget } from '@flotilla/model';
import { traceHeaders } from './attributes.js';
import { DestinationResolver, type DestinationMaps } from './destinations.js';
import {
  deliver,
  MAX_BATCH_ENTRIES,
  type DeliveryReport,
  type OutboundMessage,
  type DeliveryRetryOptions,
} from './delivery.js';
import type { EventData, EventEnvelope, EventInput, EventSchemas } from './envelope.js';
import { PublishError, type DeliveryFailure } from './errors.js';
import { uuidv7 } from './ids.js';
import { serialiseEnvelope } from './outgoing.js';
import { validateOutgoing } from './validation.js';
import { errorMessage, type Logger } from '../kit.js';

/** Name of the tracer the messaging module creates spans with. */
export const MESSAGING_TRACER = '@flotilla/runtime/messaging';

export interface PublisherOptions<S extends EventSchemas> extends DestinationMaps {
  /** The producing service (the envelope's `source`). */
  readonly source: string;
  /** Schemas of every event type this service publishes or sends (from services/contracts). */
  readonly schemas: S;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  /** Retries of failed entries and calls. @default { attempts: 5, baseDelayMs: 50, maxDelayMs: 2000 } */
  readonly retry?: DeliveryRetryOptions;
  /**
   * How long a batch waits for more messages before it leaves. 0 sends on the next event-loop turn, which
   * batches what concurrent requests publish without delaying any of them.
   * @default 0
   */
  readonly maxBatchDelayMs?: number;
  /** The current request id, for the `x-request-id` attribute. @default - none */
  readonly requestId?: () => string | undefined;
  /** @default - the global tracer provider's `@flotilla/runtime/messaging` tracer */
  readonly tracer?: Tracer;
  readonly log?: Logger;
}

/** Per-call options. */
export interface PublishOptions {
  /** Envelope id. @default a new UUID v7 */
  readonly id?: string;
  /** Envelope time. @default now */
  readonly time?: Date;
  /** Overrides the `requestId` provider for this message. */
  readonly requestId?: string;
}

/** One entry of {@link Publisher.publishBatch}. */
export type BatchEntry<S extends EventSchemas> = {
  [K in keyof S & string]: (
    | { readonly topic: string; readonly queue?: never }
    | { readonly queue: QueueTarget | string; readonly topic?: never }
  ) & { readonly type: K; readonly data: EventInput<S, K> } & PublishOptions;
}[keyof S & string];

export interface BatchResult {
  /** Envelopes of every entry, in the order given. */
  readonly envelopes: readonly EventEnvelope[];
  /** Ids delivered. */
  readonly succeeded: readonly string[];
  /** Entries not delivered after retries, with the reason. */
  readonly failed: readonly DeliveryFailure[];
}

export interface Publisher<S extends EventSchemas> {
  /**
   * Publishes an event to an SNS topic (fanned out to the subscribed queues).
   * @param topic the topic's name in the model (resolved via `TOPIC_<TOPIC>_ARN`) or its ARN
   * @returns the envelope that was sent
   * @throws EventValidationError before anything is sent when `data` does not match the schema of `type`
   *   or is not JSON (a BigInt, a cycle)
   * @throws PublishError when the message could not be delivered after retries
   */
  publish<K extends keyof S & string>(
    topic: string,
    type: K,
    data: EventInput<S, K>,
    options?: PublishOptions,
  ): Promise<EventEnvelope<EventData<S, K>, K>>;
  /**
   * Sends a command to another service's SQS queue.
   * @param queue `{ service, queue }` / `"service/queue"` (resolved via `SEND_<SERVICE>_<QUEUE>_QUEUE_URL`) or a queue URL
   */
  send<K extends keyof S & string>(
    queue: QueueTarget | string,
    type: K,
    data: EventInput<S, K>,
    options?: PublishOptions,
  ): Promise<EventEnvelope<EventData<S, K>, K>>;
  /**
   * Delivers many events at once, 10 per AWS call. Every entry is validated (schema, JSON) first (an
   * invalid one throws and nothing is sent); delivery failures are reported per entry, never thrown.
   */
  publishBatch(entries: readonly BatchEntry<S>[]): Promise<BatchResult>;
  /**
   * Delivers already-built envelopes (the transactional outbox's relay): validates nothing, creates no
   * spans (the trace context travels with each message). Resolves with which ids failed.
   */
  deliver(messages: readonly OutboundMessage[]): Promise<DeliveryReport>;
  /** Sends whatever is waiting in the auto-batcher and waits for it. */
  flush(): Promise<void>;
}

interface Pending {
  readonly message: OutboundMessage;
  readonly span: Span;
  resolve(): void;
  reject(err: Error): void;
}

export function createPublisher<S extends EventSchemas>(options: PublisherOptions<S>): Publisher<S> {
  const resolver = new DestinationResolver(options);
  const tracer = options.tracer ?? trace.getTracer(MESSAGING_TRACER);
  const clients = { sqs: options.sqs, sns: options.sns };
  const buffers = new Map<string, { items: Pending[]; timer?: NodeJS.Timeout | NodeJS.Immediate }>();
  const inFlight = new Set<Promise<void>>();

  function envelopeOf(type: string, data: unknown, o: PublishOptions | undefined): EventEnvelope {
    const parsed = validateOutgoing(options.schemas, type, data, options.source);
    return {
      id: o?.id ?? uuidv7(),
      type,
      source: options.source,
      time: (o?.time ?? new Date()).toISOString(),
      data: parsed,
    };
  }

  /** The message to deliver; its envelope must serialise (checked here, so one bad event fails alone). */
  function outbound(
    kind: 'topic' | 'queue',
    destination: string,
    envelope: EventEnvelope,
    span: Span,
    o?: PublishOptions,
  ): OutboundMessage {
    const headers = traceHeaders(trace.setSpan(otelContext.active(), span));
    const message = {
      kind,
      destination,
      envelope,
      ...headers,
      requestId: o?.requestId ?? options.requestId?.(),
    };
    try {
      serialiseEnvelope(envelope, 'Cannot publish');
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      span.end();
      throw error;
    }
    return message;
  }

  function endSpan(span: Span, failure?: DeliveryFailure): void {
    if (failure) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${failure.code}: ${failure.message}` });
      span.setAttribute('error.type', failure.code);
    }
    span.end();
  }

  function flushBuffer(key: string): void {
    const buffer = buffers.get(key);
    if (!buffer) return;
    buffers.delete(key);
    if (buffer.timer) clearTimer(buffer.timer);
    const items = buffer.items;
    const run = Promise.resolve()
      .then(() =>
        deliver(
          clients,
          items.map((i) => i.message),
          options.retry,
        ),
      )
      .then(
        (report) => {
          const failures = new Map(report.failed.map((f) => [f.id, f]));
          for (const item of items) {
            const f = failures.get(item.message.envelope.id);
            endSpan(item.span, f);
            if (f) {
              options.log?.error(
                { eventId: f.id, destination: f.destination, code: f.code },
                'event not delivered',
              );
              item.reject(new PublishError(f, item.message.envelope.type));
            } else item.resolve();
          }
        },
        (error: unknown) => {
          // deliver() reports failures per entry and should never reject; if it does, every publish of the
          // batch settles with the reason instead of waiting forever.
          options.log?.error({ err: errorMessage(error), count: items.length }, 'events not delivered');
          for (const item of items) {
            const failure: DeliveryFailure = {
              id: item.message.envelope.id,
              destination: item.message.destination,
              code: error instanceof Error ? error.name : 'Error',
              message: errorMessage(error),
              senderFault: false,
              attempts: 1,
            };
            endSpan(item.span, failure);
            item.reject(new PublishError(failure, item.message.envelope.type));
          }
        },
      );
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run));
  }

  function enqueue(
    kind: 'topic' | 'queue',
    destination: string,
    type: string,
    data: unknown,
    o?: PublishOptions,
  ): Promise<EventEnvelope> {
    const envelope = envelopeOf(type, data, o);
    const span = startProducerSpan(tracer, 'send', kind, destination, envelope);
    const message = outbound(kind, destination, envelope, span, o);
    return new Promise<EventEnvelope>((resolve, reject) => {
      const key = `${kind} ${destination}`;
      let buffer = buffers.get(key);
      if (!buffer) buffers.set(key, (buffer = { items: [] }));
      buffer.items.push({ message, span, resolve: () => resolve(envelope), reject });
      if (buffer.items.length >= MAX_BATCH_ENTRIES) flushBuffer(key);
      else if (!buffer.timer) {
        const delay = options.maxBatchDelayMs ?? 0;
        buffer.timer =
          delay > 0 ? setTimeout(() => flushBuffer(key), delay) : setImmediate(() => flushBuffer(key));
      }
    });
  }

  return {
    // async: validation and resolution errors reject the returned promise instead of throwing synchronously
    publish: async (topic, type, data, o) =>
      enqueue('topic', resolver.topicArn(topic), type, data, o) as never,
    send: async (queue, type, data, o) => enqueue('queue', resolver.queueUrl(queue), type, data, o) as never,
    async publishBatch(entries) {
      const prepared = entries.map((e) => {
        const kind = e.topic !== undefined ? ('topic' as const) : ('queue' as const);
        const destination =
          e.topic !== undefined
            ? resolver.topicArn(e.topic)
            : resolver.queueUrl(e.queue as QueueTarget | string);
        return { kind, destination, envelope: envelopeOf(e.type, e.data, e), e };
      });
      const spans = prepared.map((p) => startProducerSpan(tracer, 'send', p.kind, p.destination, p.envelope));
      let messages: OutboundMessage[];
      try {
        messages = prepared.map((p, i) => outbound(p.kind, p.destination, p.envelope, spans[i] as Span, p.e));
      } catch (error) {
        for (const span of spans) if (span.isRecording()) span.end(); // nothing is sent
        throw error;
      }
      const report = await deliver(clients, messages, options.retry);
      const failures = new Map(report.failed.map((f) => [f.id, f]));
      prepared.forEach((p, i) => endSpan(spans[i] as Span, failures.get(p.envelope.id)));
      return { envelopes: prepared.map((p) => p.envelope), ...report };
    },
    deliver: (messages) => deliver(clients, messages, options.retry),
    async flush() {
      for (const key of [...buffers.keys()]) flushBuffer(key);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function clearTimer(timer: NodeJS.Timeout | NodeJS.Immediate): void {
  if ('hasRef' in timer && 'refresh' in timer) clearTimeout(timer as NodeJS.Timeout);
  else clearImmediate(timer as NodeJS.Immediate);
}

/**
 * A PRODUCER span for one message: operation `send` when it leaves (publisher; named `publish <topic>` or
 * `send <queue>`), `create` when it is written for later sending (outbox; named `create <destination>`).
 * @see https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/#operation-types
 */
export function startProducerSpan(
  tracer: Tracer,
  operation: 'send' | 'create',
  kind: 'topic' | 'queue',
  destination: string,
  envelope: EventEnvelope,
): Span {
  const name = shortName(destination);
  const verb = operation === 'create' ? 'create' : kind === 'topic' ? 'publish' : 'send';
  return tracer.startSpan(`${verb} ${name}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': kind === 'topic' ? 'aws_sns' : 'aws_sqs',
      'messaging.operation.type': operation,
      'messaging.destination.name': name,
      'messaging.message.id': envelope.id,
      'flotilla.event.type': envelope.type,
    },
  });
}

/** The last part of an ARN or URL: the topic or queue name, for span names. */
export function shortName(destination: string): string {
  return destination.split(/[:/]/).pop() ?? destination;
}
