import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import {
  CreateTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { startEmulator, type Emulator } from '../src/index.js';
import { eventually } from '../src/testing.js';
import { emulatorClients } from './support.js';

describe('emulator faults', () => {
  let emulator: Emulator;
  let clients: ReturnType<typeof emulatorClients>;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    clients = emulatorClients(emulator.endpoint);
  });
  afterAll(async () => {
    clients?.destroy();
    await emulator?.stop();
  });

  let queues = 0;
  async function queue(): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: `q-${++queues}` }));
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  }
  async function bodies(url: string): Promise<string[]> {
    const got: string[] = [];
    for (;;) {
      const r = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!r.Messages?.length) return got.sort();
      got.push(...r.Messages.map((m) => m.Body!));
    }
  }
  const depth = async (url: string): Promise<number> => {
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(Attributes!.ApproximateNumberOfMessages);
  };

  it('delivers every sent and published message twice while duplicates are on, once after', async () => {
    const direct = await queue();
    const fanned = await queue();
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: 'dup-topic' }));
    await clients.sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: fanned.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    emulator.duplicateDeliveries({ maxDelayMs: 50 });
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: direct.url, MessageBody: 'one' }));
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: direct.url,
        Entries: [
          { Id: 'a', MessageBody: 'two' },
          { Id: 'b', MessageBody: 'three' },
        ],
      }),
    );
    await clients.sns.send(new PublishCommand({ TopicArn, Message: 'published' }));
    await clients.sns.send(
      new PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: [
          { Id: 'x', Message: 'batched-1' },
          { Id: 'y', Message: 'batched-2' },
        ],
      }),
    );
    await eventually('the copies', async () => ((await depth(direct.url)) === 6 ? true : undefined));
    await eventually('the published copies', async () =>
      (await depth(fanned.url)) === 6 ? true : undefined,
    );
    expect(await bodies(direct.url)).toEqual(['one', 'one', 'three', 'three', 'two', 'two']);
    expect(await bodies(fanned.url)).toEqual([
      'batched-1',
      'batched-1',
      'batched-2',
      'batched-2',
      'published',
      'published',
    ]);
    expect(emulator.duplicatedMessages).toBe(6);
    expect(emulator.pendingDuplicates).toBe(0);

    // A repeat waiting out its delay is counted as pending until it is on its queue.
    emulator.duplicateDeliveries({ maxDelayMs: 600_000 });
    const later = await queue();
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: later.url, MessageBody: 'later' }));
    expect(emulator.pendingDuplicates).toBe(1);
    expect(await bodies(later.url)).toEqual(['later']);

    emulator.duplicateDeliveries(false);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: direct.url, MessageBody: 'single' }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await bodies(direct.url)).toEqual(['single']);
  });

  it('is unreachable between disconnect() and reconnect(), and keeps its queues and messages', async () => {
    const q = await queue();
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'kept' }));
    await emulator.disconnect();
    const refused = await clients.sqs
      .send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'lost' }))
      .then(
        () => 'sent',
        (err: Error) => err.message,
      );
    await emulator.reconnect();
    expect(refused).toContain('ECONNREFUSED');
    expect(await bodies(q.url)).toEqual(['kept']);
  });

  it('ends a long poll in flight when it disconnects', async () => {
    const q = await queue();
    const poll = clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 20 })).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 200));
    await emulator.disconnect();
    expect(await poll).toBe('failed');
    await emulator.reconnect();
  });
});
