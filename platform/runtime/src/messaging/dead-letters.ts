/**
 * Dead letters: how deep each dead-letter queue is, a sample of what is in it, and moving messages back
 * to their source queue. Works on SQS and emulators alike: no StartMessageMoveTask (emulators lack it).
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { MessagingResources, QueueResource } from '@flotilla/model';
import type { Attributes } from './attributes.js';
import { errorCode } from './aws-errors.js';
import { errorMessage } from '../kit.js';
import { releaseMessages } from './deleter.js';
import { MAX_BATCH_ENTRIES } from './delivery.js';
import { FAILURE_ATTRIBUTES } from './envelope.js';
import { messageBytes } from './outgoing.js';

/** A peeked dead letter. */
export interface DeadLetterSample {
  readonly messageId: string;
  /** Envelope id and type, when the body is an envelope. */
  readonly eventId?: string;
  readonly type?: string;
  /** The `failure-reason` the consumer recorded; absent when the redrive policy moved it. */
  readonly reason?: string;
  /** The body, cut at 200 characters. */
  readonly body: string;
}

export interface DeadLetterQueueReport {
  readonly service: string;
  readonly key: string;
  /** Source queue name. */
  readonly queue: string;
  readonly dlqName: string;
  readonly dlqUrl: string;
  /** ApproximateNumberOfMessages of the DLQ. @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_GetQueueAttributes.html */
  readonly depth: number;
  /** Messages of the DLQ currently invisible (being peeked or redriven). */
  readonly inFlight: number;
  readonly samples: readonly DeadLetterSample[];
  /** Set when the DLQ could not be read (missing queue, no permission). */
  readonly error?: string;
}

export interface ListDeadLettersOptions {
  readonly sqs: SQSClient;
  /** Messages peeked per non-empty DLQ (0-10). @default 3 */
  readonly sampleSize?: number;
}

/**
 * Depth and sample messages of the dead-letter queue of every queue in `resources`. Samples are peeked:
 * received and released at once (visibility 0), so they stay in the DLQ.
 */
export async function listDeadLetters(
  resources: MessagingResources | readonly QueueResource[],
  options: ListDeadLettersOptions,
): Promise<DeadLetterQueueReport[]> {
  const queues = 'queues' in resources ? resources.queues : resources;
  return Promise.all(queues.map((q) => inspect(q, options)));
}

async function inspect(
  q: QueueResource,
  { sqs, sampleSize = 3 }: ListDeadLettersOptions,
): Promise<DeadLetterQueueReport> {
  const base = { service: q.service, key: q.key, queue: q.name, dlqName: q.dlq.name, dlqUrl: q.dlq.url };
  try {
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: q.dlq.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const depth = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
    const inFlight = Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    const samples =
      depth > 0 && sampleSize > 0 ? await peek(sqs, q.dlq.url, Math.min(MAX_BATCH_ENTRIES, sampleSize)) : [];
    return { ...base, depth, inFlight, samples };
  } catch (err) {
    return {
      ...base,
      depth: 0,
      inFlight: 0,
      samples: [],
      error: errorMessage(err),
    };
  }
}

async function peek(sqs: SQSClient, url: string, max: number): Promise<DeadLetterSample[]> {
  const r = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: max,
      VisibilityTimeout: 30,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  const messages = r.Messages ?? [];
  await releaseMessages(sqs, url, messages);
  return messages.map(sampleOf);
}

function sampleOf(m: Message): DeadLetterSample {
  let eventId: string | undefined;
  let type: string | undefined;
  try {
    const body = JSON.parse(m.Body ?? '') as { id?: unknown; type?: unknown };
    if (typeof body.id === 'string') eventId = body.id;
    if (typeof body.type === 'string') type = body.type;
  } catch {
    // not an envelope: the body sample says enough
  }
  const reason = m.MessageAttributes?.[FAILURE_ATTRIBUTES.reason]?.StringValue;
  return {
    messageId: m.MessageId ?? '',
    ...(eventId ? { eventId } : {}),
    ...(type ? { type } : {}),
    ...(reason ? { reason } : {}),
    body: (m.Body ?? '').slice(0, 200),
  };
}

export interface RedriveOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  readonly sourceQueueUrl: string;
  /**
   * Most messages to move.
   * @default the DLQ's depth when the redrive starts (so messages that fail again are not looped)
   */
  readonly max?: number;
  /** Long-poll wait of each receive from the DLQ; an empty receive ends the redrive. @default 1 */
  readonly waitTimeSeconds?: number;
  /**
   * Largest SendMessageBatch payload, the sum of every entry's body and attributes. Batches are packed to
   * stay under it (and split again if SQS still answers `BatchRequestTooLong`, as a queue of an older limit
   * does).
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
   * @default 1048576 (1 MiB, SQS's limit for a batch)
   */
  readonly maxBatchBytes?: number;
}

export interface RedriveResult {
  /** Messages sent to the source queue and deleted from the DLQ. */
  readonly moved: number;
  /** Messages that could not be sent; they stay in the DLQ. */
  readonly failed: number;
  /**
   * Messages sent to the source queue whose delete from the DLQ failed: they are in both queues now (the
   * consumer's inbox absorbs the second copy) and show up in the DLQ again.
   */
  readonly notDeleted: number;
}

/** SQS's limit on the total size of a SendMessageBatch request. */
export const MAX_BATCH_BYTES = 1_048_576;

const failureAttributeNames = new Set<string>(Object.values(FAILURE_ATTRIBUTES));

/**
 * Moves messages from a dead-letter queue back to its source queue: receive from the DLQ (10 at a time),
 * send to the source with the original body and attributes (without the consumer's `failure-*` ones) in
 * batches that fit SQS's size limit, delete from the DLQ only what was sent, and count as moved only what
 * was deleted. What fails to send is released and stays in the DLQ.
 */
export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const { sqs, dlqUrl, sourceQueueUrl } = options;
  const maxBatchBytes = options.maxBatchBytes ?? MAX_BATCH_BYTES;
  let max = options.max;
  if (max === undefined) {
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    max = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  const total = { moved: 0, failed: 0, notDeleted: 0 };
  const handled = () => total.moved + total.failed + total.notDeleted;
  while (handled() < max) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(MAX_BATCH_ENTRIES, max - handled()),
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = r.Messages ?? [];
    if (messages.length === 0) break;
    const sent: Message[] = [];
    const unsent: Message[] = [];
    for (const batch of packBatches(messages, maxBatchBytes)) {
      const result = await sendBatch(sqs, sourceQueueUrl, batch);
      sent.push(...result.sent);
      unsent.push(...result.unsent);
    }
    const deleted = await deleteBatch(sqs, dlqUrl, sent);
    await releaseMessages(sqs, dlqUrl, unsent);
    total.moved += deleted;
    total.notDeleted += sent.length - deleted;
    total.failed += unsent.length;
    if (sent.length === 0) break; // the source refuses everything: stop, do not spin
  }
  return total;
}

/** Groups `messages` in order into batches whose summed size stays under `maxBytes` (one message at least). */
function packBatches(messages: readonly Message[], maxBytes: number): Message[][] {
  const batches: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = messageBytes(m.Body ?? '', originalAttributes(m));
    if (current.length > 0 && bytes + size > maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Sends `messages` to the source queue, halving the batch while SQS answers that it is too long. */
async function sendBatch(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
): Promise<{ sent: Message[]; unsent: Message[] }> {
  try {
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          MessageAttributes: originalAttributes(m),
        })),
      }),
    );
    const ok = new Set((out.Successful ?? []).map((s) => Number(s.Id)));
    return {
      sent: messages.filter((_, i) => ok.has(i)),
      unsent: messages.filter((_, i) => !ok.has(i)),
    };
  } catch (err) {
    if (errorCode(err) === 'BatchRequestTooLong' && messages.length > 1) {
      const mid = Math.ceil(messages.length / 2);
      const a = await sendBatch(sqs, queueUrl, messages.slice(0, mid));
      const b = await sendBatch(sqs, queueUrl, messages.slice(mid));
      return { sent: [...a.sent, ...b.sent], unsent: [...a.unsent, ...b.unsent] };
    }
    return { sent: [], unsent: [...messages] };
  }
}

/**
 * Deletes `messages` from the DLQ, retrying once what failed for a transient reason; returns how many SQS
 * confirmed.
 */
async function deleteBatch(
  sqs: SQSClient,
  dlqUrl: string,
  messages: readonly Message[],
  attempt = 1,
): Promise<number> {
  if (messages.length === 0) return 0;
  let retry: Message[];
  let deleted = 0;
  try {
    const out = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    deleted = (out.Successful ?? []).length;
    retry = (out.Failed ?? []).filter((f) => !f.SenderFault).map((f) => messages[Number(f.Id)]!);
  } catch {
    retry = [...messages];
  }
  return attempt < 2 ? deleted + (await deleteBatch(sqs, dlqUrl, retry, attempt + 1)) : deleted;
}

function originalAttributes(m: Message): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) {
    if (failureAttributeNames.has(k)) continue;
    out[k] =
      v.DataType === 'Binary'
        ? { DataType: v.DataType, BinaryValue: v.BinaryValue }
        : { DataType: v.DataType, StringValue: v.StringValue };
  }
  return out;
}
