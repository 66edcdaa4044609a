/**
 * A minimal outbox publish function over the real AWS SDK (SNS PublishBatch, SQS SendMessageBatch), for
 * the outbox tests against fauxqs; plus helpers to create a topic with a subscribed queue and read it.
 * (Services use the messaging module's publisher; this one exists so the outbox tests depend on nothing else.)
 */
import { PublishBatchCommand, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { OutboxMessage, OutboxPublish } from '../../src/outbox/index.js';
import type { EmulatorClients } from './messaging-stack.js';

/** Creates topic `name` and a queue `<name>-sub` subscribed to it with raw delivery. */
export async function topicWithQueue(
  clients: EmulatorClients,
  name: string,
): Promise<{ topicArn: string; queueUrl: string }> {
  const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: name }));
  const queueUrl = await createQueue(clients, `${name}-sub`);
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await clients.sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes!.QueueArn!,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return { topicArn: TopicArn!, queueUrl };
}

export async function createQueue(clients: EmulatorClients, name: string): Promise<string> {
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name }));
  return QueueUrl!;
}

function attributes(m: OutboxMessage): Record<string, MessageAttributeValue> {
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  return {
    type: text(m.envelope.type),
    ...(m.traceparent ? { traceparent: text(m.traceparent) } : {}),
    ...(m.tracestate ? { tracestate: text(m.tracestate) } : {}),
  };
}

/** An {@link OutboxPublish} that resolves destinations through the given maps (key -> ARN / URL). */
export function snsSqsPublish(
  clients: EmulatorClients,
  destinations: { topics?: Record<string, string>; queues?: Record<string, string> },
): OutboxPublish {
  return async (messages) => {
    const failedIds: string[] = [];
    const reasons: Record<string, string> = {};
    const groups = new Map<string, OutboxMessage[]>();
    for (const m of messages) {
      const key = `${m.kind}\n${m.destination}`;
      groups.set(key, [...(groups.get(key) ?? []), m]);
    }
    for (const group of groups.values()) {
      const { kind, destination } = group[0]!;
      const target =
        kind === 'topic' ? destinations.topics?.[destination] : destinations.queues?.[destination];
      if (!target) {
        for (const m of group) {
          failedIds.push(m.envelope.id);
          reasons[m.envelope.id] = `no ${kind} named ${destination}`;
        }
        continue;
      }
      const entries = group.map((m) => ({ Id: m.envelope.id, MessageAttributes: attributes(m) }));
      const body = (i: number) => JSON.stringify(group[i]!.envelope);
      const { Failed } =
        kind === 'topic'
          ? await clients.sns.send(
              new PublishBatchCommand({
                TopicArn: target,
                PublishBatchRequestEntries: entries.map((e, i) => ({ ...e, Message: body(i) })),
              }),
            )
          : await clients.sqs.send(
              new SendMessageBatchCommand({
                QueueUrl: target,
                Entries: entries.map((e, i) => ({ ...e, MessageBody: body(i) })),
              }),
            );
      for (const f of Failed ?? []) {
        failedIds.push(f.Id!);
        reasons[f.Id!] = f.Message ?? f.Code ?? 'failed';
      }
    }
    return { failedIds, reasons };
  };
}

export interface ReceivedEvent {
  readonly id: string;
  readonly type: string;
  readonly traceparent?: string;
}

/**
 * Reads and deletes messages from `queueUrl` until `expected` have arrived, then keeps reading until the
 * queue stays empty for one more short poll (so an extra, unwanted message would be seen too).
 */
export async function receiveAll(
  clients: EmulatorClients,
  queueUrl: string,
  expected: number,
  timeoutMs = 10_000,
): Promise<ReceivedEvent[]> {
  const received: ReceivedEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const enough = received.length >= expected;
    if (!enough && Date.now() > deadline) return received;
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: enough ? 0 : 1,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0 && enough) return received;
    for (const m of Messages) {
      const envelope = JSON.parse(m.Body!) as { id: string; type: string };
      const traceparent = m.MessageAttributes?.traceparent?.StringValue;
      received.push({ id: envelope.id, type: envelope.type, ...(traceparent ? { traceparent } : {}) });
    }
    if (Messages.length > 0) {
      await clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
}
