/**
 * The transactional outbox writer: `outbox.publish(trx, topic, event)` inserts the event into
 * `flotilla_outbox` inside the caller's transaction, so it exists if and only if the business change
 * committed. The relay (./relay.ts) publishes it afterwards.
 * @see https://microservices.io/patterns/data/transactional-outbox.html
 */
import { context, trace } from '@opentelemetry/api';
import { sql, type Transaction } from 'kysely';
import type { z } from 'zod';
import type { Database } from '../database/index.js';
import { traceHeaders } from '../messaging/attributes.js';
import type { EventEnvelope, EventSchemas } from '../messaging/envelope.js';
import { uuidv7 } from '../messaging/ids.js';
import { encodeOutgoing, MAX_MESSAGE_BYTES } from '../messaging/outgoing.js';
import { MESSAGING_TRACER, startProducerSpan } from '../messaging/publisher.js';
import { validateOutgoing } from '../messaging/validation.js';
import {
  listOutboxDeadLetters,
  redriveOutboxDeadLetters,
  type OutboxDeadLetterReport,
  type OutboxRedriveOptions,
} from './dead-letters.js';
import type { OutboxDestinationKind } from './message.js';
import { signalOutboxCommit } from './signal.js';

/** Options of {@link createOutbox}. */
export interface OutboxOptions<DB, S extends EventSchemas> {
  /** The service database; the outbox table lives next to the service's tables. */
  readonly database: Database<DB>;
  /** The producing service: the envelope's `source`. */
  readonly source: string;
  /**
   * Schemas by event type. When given, `data` is validated (and parsed) before the row is written, so an
   * invalid event fails the producer's transaction instead of the relay.
   * @default undefined (no validation)
   */
  readonly schemas?: S;
  /**
   * Largest message, body plus attributes, a row may hold: a larger event fails the producer's transaction
   * instead of being refused by SNS/SQS later. Raise it only when every destination accepts more (an SNS
   * topic's `MaximumMessageSize`, up to 1 MiB).
   * @see https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html
   * @default 262144 (256 KiB)
   */
  readonly maxMessageBytes?: number;
  /**
   * Checks a destination when the row is written; throws (with the reason) when it cannot be resolved, so
   * an unknown topic or queue fails the producer's transaction instead of the relay. `useOutbox` passes the
   * service's destination resolver.
   * @default undefined (not checked; an unknown destination fails at publish and is parked as a dead letter)
   */
  readonly checkDestination?: (kind: OutboxDestinationKind, destination: string) => void;
}

/** Optional envelope fields and trace context of one outbox entry. */
export interface OutboxEntryOptions {
  /** Envelope id. @default a new UUID v7 */
  readonly id?: string;
  /** Envelope time. @default now */
  readonly time?: Date;
  /** W3C trace context to continue. @default the active OpenTelemetry context's */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Request id of the causing request. @default none */
  readonly requestId?: string;
}

/** An event (or command) to write: its type, its payload, and optional envelope fields. */
export type OutboxEvent<S extends EventSchemas> = {
  [K in keyof S & string]: { readonly type: K; readonly data: z.input<S[K]> } & OutboxEntryOptions;
}[keyof S & string];

export interface Outbox<DB, S extends EventSchemas = EventSchemas> {
  /**
   * Writes `event` for the SNS topic `topic` (its key in the model, or its ARN) in transaction `trx`.
   * Returns the envelope that will be published. When `trx` comes from `database.transaction()`, the relay
   * is woken as soon as it commits; otherwise its next poll picks the row up.
   * @throws EventValidationError when `schemas` were given and `data` does not match the schema of its
   *   type; when `data` is not JSON (a BigInt, a cycle) or holds a NUL or a lone surrogate; when the message
   *   is over `maxMessageBytes`
   */
  publish(trx: Transaction<DB>, topic: string, event: OutboxEvent<S>): Promise<EventEnvelope>;
  /** Like {@link Outbox.publish} for a command to an SQS queue (`service/queue` or its URL). */
  send(trx: Transaction<DB>, queue: string, command: OutboxEvent<S>): Promise<EventEnvelope>;
  /** Rows not yet published (dead letters not counted). */
  pending(): Promise<number>;
  /** Rows parked as dead letters: how many, and the oldest `limit` (default 10). */
  deadLetters(limit?: number): Promise<OutboxDeadLetterReport>;
  /** Sends dead letters again (all, or `eventIds`); returns how many. */
  redrive(options?: OutboxRedriveOptions): Promise<number>;
}

/** Creates the outbox writer of a service. */
export function createOutbox<DB, S extends EventSchemas = EventSchemas>(
  options: OutboxOptions<DB, S>,
): Outbox<DB, S> {
  const { database, source, schemas, checkDestination } = options;
  const maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  if (!source) throw new Error('createOutbox: source (the producing service name) is required.');

  async function write(
    trx: Transaction<DB>,
    kind: OutboxDestinationKind,
    destination: string,
    entry: OutboxEvent<S>,
  ): Promise<EventEnvelope> {
    if (!destination) {
      throw new Error(
        `outbox.${kind === 'topic' ? 'publish' : 'send'}: the ${kind} of event ${entry.type} is empty.`,
      );
    }
    checkDestination?.(kind, destination);
    const data = schemas ? validateOutgoing(schemas, entry.type, entry.data, source) : entry.data;
    const envelope: EventEnvelope = {
      id: entry.id ?? uuidv7(),
      type: entry.type,
      source,
      time: (entry.time ?? new Date()).toISOString(),
      data,
    };
    const traceContext = {
      ...(entry.traceparent
        ? { traceparent: entry.traceparent, tracestate: entry.tracestate }
        : createSpanHeaders(kind, destination, envelope)),
      requestId: entry.requestId,
    };
    // Checked as the relay will send it: the same body and attributes, so what is written can be delivered.
    const { body } = encodeOutgoing(envelope, traceContext, 'Cannot write to the outbox', maxBytes);
    await sql`
      insert into flotilla_outbox (event_id, destination_kind, destination, envelope, trace_context)
      values (${envelope.id}, ${kind}, ${destination}, ${body}::jsonb, ${JSON.stringify(traceContext)}::jsonb)
    `.execute(trx);
    database.afterCommit(trx, () => signalOutboxCommit(database));
    return envelope;
  }

  return {
    publish: (trx, topic, event) => write(trx, 'topic', topic, event),
    send: (trx, queue, command) => write(trx, 'queue', queue, command),
    async pending() {
      const { rows } = await sql<{
        n: string;
      }>`select count(*) as n from flotilla_outbox where sent_at is null and dead_lettered_at is null`.execute(
        database.db,
      );
      return Number(rows[0]?.n ?? 0);
    },
    deadLetters: (limit) => listOutboxDeadLetters(database, limit),
    redrive: (redriveOptions) => redriveOutboxDeadLetters(database, redriveOptions),
  };
}

/**
 * A PRODUCER span for the creation of the message inside the transaction (OpenTelemetry's messaging
 * "create" operation), ended at once; its context travels with the row, so consumers become children of
 * this span rather than of whatever span happened to be active, however late the relay publishes.
 * @see https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/#operation-types
 */
function createSpanHeaders(kind: OutboxDestinationKind, destination: string, envelope: EventEnvelope) {
  const tracer = trace.getTracer(MESSAGING_TRACER);
  const span = startProducerSpan(tracer, 'create', kind, destination, envelope);
  span.end();
  return traceHeaders(trace.setSpan(context.active(), span));
}
