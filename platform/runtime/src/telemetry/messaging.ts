/**
 * Traces of messaging a person can read, for the AWS SDK instrumentation:
 *
 * - A consumer's long polls and housekeeping calls (ReceiveMessage, DeleteMessage(Batch),
 *   ChangeMessageVisibility(Batch): deletes after handling, heartbeats, retry delays) are recorded only
 *   inside a sampled trace, never as traces of their own. A service that consumes a queue long-polls it
 *   every 20 s for ever; as roots those calls bury the traces of requests and messages on a trace page, and
 *   in X-Ray each is a trace that is paid for. A message's handling is traced by the kit's CONSUMER span,
 *   which continues the trace that sent it. (OpenTelemetry Java's SQS instrumentation leaves receive spans
 *   out by default too: `otel.instrumentation.messaging.experimental.receive-telemetry.enabled`.)
 * - A message keeps the trace context the kit gave it: the instrumentation would overwrite a message's
 *   `traceparent` with its SendMessage(Batch) span, which moves every message of a batch into the trace of
 *   whichever request made the call.
 * - A batch call (SNS PublishBatch, SQS SendMessageBatch) whose messages belong to other traces (the outbox
 *   relay's rows of several transactions) links to each of them.
 * @see https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/#trace-structure
 */
import {
  isSpanContextValid,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanKind,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace';
import type { AwsSdkRequestHookInformation } from '@opentelemetry/instrumentation-aws-sdk';
import {
  extractTraceContext,
  stringAttributes,
  type Attributes as MessageAttributes,
} from '../messaging/attributes.js';

/** SQS operations a consumer calls to poll and to look after its messages, not to move them. */
export const SQS_HOUSEKEEPING: ReadonlySet<string> = new Set([
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
]);

/** Whether span attributes (as the AWS SDK instrumentation sets them at start) describe such a call. */
function isSqsHousekeeping(attributes: Attributes): boolean {
  return (
    attributes['rpc.system'] === 'aws-api' &&
    attributes['rpc.service'] === 'SQS' &&
    SQS_HOUSEKEEPING.has(String(attributes['rpc.method']))
  );
}

/**
 * Wraps the configured sampler: an SQS housekeeping call is recorded only as part of a sampled trace (its
 * parent is sampled), and then as that sampler decides; every other span is the wrapped sampler's call.
 */
export class MessagingHousekeepingSampler implements Sampler {
  constructor(private readonly delegate: Sampler) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (isSqsHousekeeping(attributes)) {
      const parent = trace.getSpanContext(context);
      const sampledParent =
        parent !== undefined && isSpanContextValid(parent) && (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
      if (!sampledParent) return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `MessagingHousekeepingSampler{${this.delegate.toString()}}`;
  }
}

/** An SQS/SNS message attribute value, as the SDK takes them. */
function isMessageAttributeValue(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'DataType' in value;
}

/**
 * Wraps the process's propagator so that injecting into a message's attributes that already carry a
 * `traceparent` (set by the kit from the message's producer span) leaves them alone. HTTP headers and
 * messages without trace context are injected into as before.
 */
export class KeepMessageTraceContext implements TextMapPropagator {
  constructor(private readonly delegate: TextMapPropagator) {}

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    if (typeof carrier === 'object' && carrier !== null) {
      const existing = (carrier as Record<string, unknown>).traceparent;
      if (isMessageAttributeValue(existing)) return;
    }
    this.delegate.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.delegate.extract(context, carrier, getter);
  }

  fields(): string[] {
    return this.delegate.fields();
  }
}

interface BatchEntry {
  readonly MessageAttributes?: MessageAttributes;
}

/**
 * The AWS SDK instrumentation's `preRequestHook`: a PublishBatch or SendMessageBatch span links to the
 * producer span of each of its messages that belongs to another trace.
 */
export function linkBatchToMessageTraces(span: Span, { request }: AwsSdkRequestHookInformation): void {
  const input = request.commandInput as { Entries?: BatchEntry[]; PublishBatchRequestEntries?: BatchEntry[] };
  const entries =
    request.serviceName === 'SQS' && request.commandName === 'SendMessageBatch'
      ? input.Entries
      : request.serviceName === 'SNS' && request.commandName === 'PublishBatch'
        ? input.PublishBatchRequestEntries
        : undefined;
  if (!entries) return;
  const own = span.spanContext().traceId;
  const seen = new Set<string>();
  for (const entry of entries) {
    const producer = trace.getSpanContext(extractTraceContext(stringAttributes(entry.MessageAttributes)));
    if (!producer || !isSpanContextValid(producer) || producer.traceId === own) continue;
    const key = `${producer.traceId}-${producer.spanId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    span.addLink({ context: producer });
  }
}
