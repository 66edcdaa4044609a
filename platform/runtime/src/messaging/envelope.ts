/**
 * The one envelope every event and command travels in (see DESIGN.md, "Events").
 */
import { EVENT_TYPE_ATTRIBUTE } from '@flotilla/model';
import type { z } from 'zod';
import { REQUEST_ID_HEADER } from '../kit.js';

export interface EventEnvelope<TData = unknown, TType extends string = string> {
  /** Unique id; consumers de-duplicate on it (the inbox). */
  readonly id: string;
  /** Dotted event type, e.g. `order.placed`. Also a message attribute, for SNS filter policies. */
  readonly type: TType;
  /** The producing service. */
  readonly source: string;
  /** ISO-8601 time the event was created. */
  readonly time: string;
  /** The payload, validated by the event type's schema. */
  readonly data: TData;
}

/** Schemas by event type: the contract between producers and consumers (see services/contracts). */
export type EventSchemas = Readonly<Record<string, z.ZodType>>;

/** Payload type of event `K` in a schema map. */
export type EventData<S extends EventSchemas, K extends keyof S> = z.infer<S[K]>;

/** Message attribute names. SQS allows at most 10 attributes per message; we use at most 4. */
export const MESSAGE_ATTRIBUTES = {
  /** The event type: what the model's SNS filter policies match. */
  type: EVENT_TYPE_ATTRIBUTE,
  /** W3C trace context. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** Request id of the request that caused the event. */
  requestId: REQUEST_ID_HEADER,
} as const;

/**
 * Attributes the consumer adds when it moves a message to the dead-letter queue itself (invalid or
 * non-retryable). Redrive removes them again. Together with {@link MESSAGE_ATTRIBUTES} a dead letter
 * carries at most 7 of SQS's 10 attributes.
 */
export const FAILURE_ATTRIBUTES = {
  /** Why the message was dead-lettered, e.g. `invalid-message: data.total: expected number`. */
  reason: 'failure-reason',
  /** ISO-8601 time of the decision. */
  at: 'failure-at',
  /** Name of the queue the message failed on. */
  queue: 'failure-queue',
} as const;

/** What a producer passes for event `K`: the schema's input (fields with defaults may be left out). */
export type EventInput<S extends EventSchemas, K extends keyof S> = z.input<S[K]>;
