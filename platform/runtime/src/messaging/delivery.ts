/**
 * Delivers envelopes to SNS topics (PublishBatch) and SQS queues (SendMessageBatch), 10 per call, with
 * per-entry failure handling: entries AWS failed for a transient reason (and whole calls that failed for
 * one) are retried with exponential backoff and jitter; entries AWS rejected as the sender's fault fail
 * at once. Nothing is dropped: every id ends in `succeeded` or `failed`.
 *
 * This is the transport under the publisher, and the function the transactional outbox relay plugs in.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns';
import { outgoingAttributes, type Attributes } from './attributes.js';
import { jitteredDelay, sleep, type BackoffOptions } from './backoff.js';
import { errorCode, isRetryableCall } from './aws-errors.js';
import { errorMessage } from '../kit.js';
import type { EventEnvelope } from './envelope.js';
import type { DeliveryFailure } from './errors.js';

/** SNS PublishBatch and SQS SendMessageBatch take at most 10 entries. */
export const MAX_BATCH_ENTRIES = 10;

/** One message to deliver. */
export interface OutboundMessage {
  /** `topic`: SNS topic ARN; `queue`: SQS queue URL. */
  readonly kind: 'topic' | 'queue';
  /** Topic ARN or queue URL (see {@link DestinationResolver} to pass model keys instead). */
  readonly destination: string;
  /** The envelope, already validated; its JSON is the message body. */
  readonly envelope: EventEnvelope;
  /** W3C trace context of the producer span (`traceparent` header syntax). @default - none */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Request id of the request that caused the message. @default - none */
  readonly requestId?: string;
}

export interface DeliveryReport {
  /** Envelope ids delivered. */
  readonly succeeded: readonly string[];
  /** Envelope ids not delivered after retries, with the reason. */
  readonly failed: readonly DeliveryFailure[];
}

/** Retry policy of deliveries. */
export interface DeliveryRetryOptions {
  /**
   * Attempts per message, including the first.
   * @default 5
   */
  readonly attempts?: number;
  /** @default 50 */
  readonly baseDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
}

export interface DeliveryClients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

interface Entry {
  readonly id: string;
  readonly body: string;
  readonly attributes: Attributes;
}

interface EntryResult {
  readonly ok: string[];
  readonly failed: Map<string, { code: string; message: string; senderFault: boolean }>;
}

/**
 * Delivers every message; resolves (never rejects) with what succeeded and what failed.
 * Messages for the same destination share batches of up to 10.
 */
export async function deliver(
  clients: DeliveryClients,
  messages: readonly OutboundMessage[],
  retry: DeliveryRetryOptions = {},
): Promise<DeliveryReport> {
  const groups = new Map<string, { kind: 'topic' | 'queue'; destination: string; entries: Entry[] }>();
  for (const m of messages) {
    const key = `${m.kind} ${m.destination}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { kind: m.kind, destination: m.destination, entries: [] }));
    group.entries.push({
      id: m.envelope.id,
      body: JSON.stringify(m.envelope),
      attributes: outgoingAttributes({
        type: m.envelope.type,
        traceparent: m.traceparent,
        tracestate: m.tracestate,
        requestId: m.requestId,
      }),
    });
  }
  const chunks: Promise<DeliveryReport>[] = [];
  for (const g of groups.values()) {
    for (let i = 0; i < g.entries.length; i += MAX_BATCH_ENTRIES) {
      chunks.push(
        deliverChunk(clients, g.kind, g.destination, g.entries.slice(i, i + MAX_BATCH_ENTRIES), retry),
      );
    }
  }
  const reports = await Promise.all(chunks);
  return { succeeded: reports.flatMap((r) => r.succeeded), failed: reports.flatMap((r) => r.failed) };
}

async function deliverChunk(
  clients: DeliveryClients,
  kind: 'topic' | 'queue',
  destination: string,
  entries: readonly Entry[],
  retry: DeliveryRetryOptions,
): Promise<DeliveryReport> {
  const attempts = Math.max(1, retry.attempts ?? 5);
  const backoff: BackoffOptions = { baseMs: retry.baseDelayMs ?? 50, maxMs: retry.maxDelayMs ?? 2000 };
  const succeeded: string[] = [];
  const failed: DeliveryFailure[] = [];
  let pending = [...entries];
  for (let attempt = 1; pending.length > 0; attempt++) {
    const result = await sendOnce(clients, kind, destination, pending);
    succeeded.push(...result.ok);
    const retryable: Entry[] = [];
    for (const entry of pending) {
      const f = result.failed.get(entry.id);
      if (!f) continue;
      if (f.senderFault || attempt >= attempts)
        failed.push({ id: entry.id, destination, ...f, attempts: attempt });
      else retryable.push(entry);
    }
    pending = retryable;
    if (pending.length > 0) await sleep(jitteredDelay(attempt, backoff));
  }
  return { succeeded, failed };
}

/** Batch entry ids must be unique per call and match [A-Za-z0-9_-]{1,80}: use the position. */
async function sendOnce(
  clients: DeliveryClients,
  kind: 'topic' | 'queue',
  destination: string,
  entries: readonly Entry[],
): Promise<EntryResult> {
  const byIndex = (i: string | undefined): Entry | undefined => entries[Number(i)];
  const ok: string[] = [];
  const failed: EntryResult['failed'] = new Map();
  try {
    const out =
      kind === 'topic'
        ? await clients.sns.send(
            new PublishBatchCommand({
              TopicArn: destination,
              PublishBatchRequestEntries: entries.map((e, i) => ({
                Id: String(i),
                Message: e.body,
                MessageAttributes: e.attributes,
              })),
            }),
          )
        : await clients.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: destination,
              Entries: entries.map((e, i) => ({
                Id: String(i),
                MessageBody: e.body,
                MessageAttributes: e.attributes,
              })),
            }),
          );
    for (const s of out.Successful ?? []) {
      const e = byIndex(s.Id);
      if (e) ok.push(e.id);
    }
    for (const f of out.Failed ?? []) {
      const e = byIndex(f.Id);
      if (e)
        failed.set(e.id, {
          code: f.Code ?? 'Unknown',
          message: f.Message ?? '',
          senderFault: f.SenderFault ?? false,
        });
    }
    // An entry AWS mentions in neither list must not vanish: treat it as a transient failure.
    for (const e of entries) {
      if (!ok.includes(e.id) && !failed.has(e.id)) {
        failed.set(e.id, { code: 'MissingResult', message: 'not in the batch response', senderFault: false });
      }
    }
  } catch (err) {
    if (errorCode(err) === 'BatchRequestTooLong' && entries.length > 1) {
      // The batch as a whole is too large (total payload limit): split it rather than fail every entry.
      const mid = Math.ceil(entries.length / 2);
      const [a, b] = await Promise.all([
        sendOnce(clients, kind, destination, entries.slice(0, mid)),
        sendOnce(clients, kind, destination, entries.slice(mid)),
      ]);
      return { ok: [...a.ok, ...b.ok], failed: new Map([...a.failed, ...b.failed]) };
    }
    const senderFault = !isRetryableCall(err);
    for (const e of entries)
      failed.set(e.id, { code: errorCode(err), message: errorMessage(err), senderFault });
  }
  return { ok, failed };
}
