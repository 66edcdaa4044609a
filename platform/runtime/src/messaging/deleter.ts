/**
 * Batched deletes: acknowledgements collect for up to `maxDelayMs` or 10 entries, then leave as one
 * DeleteMessageBatch. A delete that fails transiently is retried once; one that still fails means the
 * message is delivered again, which the inbox makes harmless.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MAX_BATCH_ENTRIES } from './delivery.js';
import { errorMessage, type Logger } from '../kit.js';

export class BatchDeleter {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly log: Logger,
    private readonly maxDelayMs: number,
  ) {}

  delete(receiptHandle: string): void {
    this.pending.push(receiptHandle);
    if (this.pending.length >= MAX_BATCH_ENTRIES) this.send();
    else this.timer ??= setTimeout(() => this.send(), this.maxDelayMs);
  }

  /** Sends what is pending and waits for every delete in flight. */
  async flush(): Promise<void> {
    while (this.pending.length > 0) this.send();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const handles = this.pending.splice(0, MAX_BATCH_ENTRIES);
    if (handles.length === 0) return;
    const run = this.deleteBatch(handles, 1);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    if (this.pending.length > 0) this.timer = setTimeout(() => this.send(), this.maxDelayMs);
  }

  private async deleteBatch(handles: string[], attempt: number): Promise<void> {
    let retry: string[] = [];
    try {
      const out = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: handles.map((h, i) => ({ Id: String(i), ReceiptHandle: h })),
        }),
      );
      for (const f of out.Failed ?? []) {
        const handle = handles[Number(f.Id)];
        if (handle && !f.SenderFault) retry.push(handle);
        else
          this.log.warn(
            { code: f.Code, reason: f.Message },
            'message not deleted; it will be delivered again',
          );
      }
    } catch (err) {
      this.log.warn({ err: errorMessage(err), count: handles.length }, 'DeleteMessageBatch failed');
      retry = handles;
    }
    if (retry.length > 0 && attempt < 2) await this.deleteBatch(retry, attempt + 1);
    else if (retry.length > 0)
      this.log.warn({ count: retry.length }, 'messages not deleted; they will be delivered again');
  }
}

/**
 * Makes received messages (at most 10) visible again at once, visibility 0: peeked dead letters, or the
 * messages of handlers that did not finish. Rejects with the SDK error when the call fails.
 */
export async function releaseMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
): Promise<void> {
  if (messages.length === 0) return;
  await sqs.send(
    new ChangeMessageVisibilityBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({
        Id: String(i),
        ReceiptHandle: m.ReceiptHandle,
        VisibilityTimeout: 0,
      })),
    }),
  );
}
