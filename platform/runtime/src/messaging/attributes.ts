/**
 * Message attributes: the event type (for SNS filter policies) and W3C trace context + request id, so a
 * consumer continues the producer's trace. Always W3C (not the global propagator): the attribute names
 * are part of the message contract, whatever the process's HTTP propagation is.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Context, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { EMPTY_CONTEXT } from '../telemetry/compact-context.js';
import { MESSAGE_ATTRIBUTES } from './envelope.js';

/** SQS allows at most 10 message attributes. @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** Attribute values as both SQS and SNS take them (same shape). */
export type Attributes = Record<string, MessageAttributeValue>;

const propagator = new W3CTraceContextPropagator();

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const getter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The W3C `traceparent`/`tracestate` of a context (empty when it holds no valid span). */
export function traceHeaders(ctx: Context): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, setter);
  return carrier;
}

/** The context whose remote parent is the trace context carried in a message's attributes. */
export function extractTraceContext(attributes: Readonly<Record<string, string>>): Context {
  return propagator.extract(EMPTY_CONTEXT, attributes, getter);
}

export interface OutgoingAttributes {
  readonly type: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly requestId?: string;
}

/** The 1-4 attributes every outgoing message carries. */
export function outgoingAttributes(a: OutgoingAttributes): Attributes {
  const out: Attributes = { [MESSAGE_ATTRIBUTES.type]: str(a.type) };
  if (a.traceparent) out[MESSAGE_ATTRIBUTES.traceparent] = str(a.traceparent);
  if (a.tracestate) out[MESSAGE_ATTRIBUTES.tracestate] = str(a.tracestate);
  if (a.requestId) out[MESSAGE_ATTRIBUTES.requestId] = str(a.requestId);
  return out;
}

export function str(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

/** String values of received attributes (binary ones are skipped). */
export function stringAttributes(attrs: Readonly<Attributes> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs ?? {})) if (v.StringValue !== undefined) out[k] = v.StringValue;
  return out;
}

/**
 * `base` plus `extra`, keeping `extra` and then as many of `base` as fit SQS's limit, so adding our
 * failure attributes to a dead letter can never make SendMessage fail.
 */
export function withAttributes(base: Readonly<Attributes> | undefined, extra: Attributes): Attributes {
  const out: Attributes = { ...extra };
  for (const [k, v] of Object.entries(base ?? {})) {
    if (Object.keys(out).length >= MAX_MESSAGE_ATTRIBUTES) break;
    if (!(k in out)) out[k] = v;
  }
  return out;
}
