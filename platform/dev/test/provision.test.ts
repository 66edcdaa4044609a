import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  GetQueueAttributesCommand,
  SendMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import {
  consumeQueueUrlVar,
  defineService,
  defineSystem,
  defineTopic,
  envFor,
  messagingResources,
  retryPolicy,
} from '@flotilla/model';
import { localEnvironment, provisionMessaging, startEmulator, type Emulator } from '../src/index.js';
import { emulatorClients } from './support.js';

const system = (retryWindowMinutes: number, events: string[]) =>
  defineSystem({
    name: 'prov',
    services: [
      defineService({ name: 'pub', port: 9201, publishes: ['t'] }),
      defineService({
        name: 'sub',
        port: 9202,
        consumes: [{ topic: 't', events, retryWindowMinutes, visibilityTimeoutSeconds: 30 }],
      }),
    ],
    topics: [defineTopic({ name: 't', events: ['a.happened', 'b.happened'] })],
  });

describe('provisionMessaging', () => {
  let emulator: Emulator;
  let clients: ReturnType<typeof emulatorClients>;
  let sqs: SQSClient;
  let sns: SNSClient;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    clients = emulatorClients(emulator.endpoint);
    ({ sqs, sns } = clients);
  });
  afterAll(async () => {
    clients.destroy();
    await emulator.stop();
  });

  it('runs again on the same endpoint and brings changed queues and filter policies up to the model', async () => {
    const env = localEnvironment({
      messagingEndpoint: emulator.endpoint,
      otlpEndpoint: 'http://127.0.0.1:1',
      dataDir: '/unused',
    });
    await provisionMessaging(system(15, ['a.happened']), env);
    const next = system(1, ['b.happened']);
    const report = await provisionMessaging(next, env);
    const changed = messagingResources(next, env);
    expect(report).toEqual({ topics: 1, queues: 1, subscriptions: 1 });

    const queue = changed.queues[0]!;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['RedrivePolicy'] }),
    );
    // the redrive count derived from the shorter retry window (the consumer derives its backoff from it too)
    expect(Number(JSON.parse(Attributes!.RedrivePolicy!).maxReceiveCount)).toBe(
      retryPolicy(1).maxReceiveCount,
    );
    expect(retryPolicy(1).maxReceiveCount).not.toBe(retryPolicy(15).maxReceiveCount);

    const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: changed.topics[0]!.arn }));
    expect(subs.Subscriptions).toHaveLength(1);
    const attrs = await sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: subs.Subscriptions![0]!.SubscriptionArn }),
    );
    expect(JSON.parse(attrs.Attributes!.FilterPolicy!)).toEqual({ type: ['b.happened'] });
    expect(attrs.Attributes!.RawMessageDelivery).toBe('true');
  });

  it('creates each queue at exactly the URL envFor gives the consuming service', async () => {
    const env = localEnvironment({
      messagingEndpoint: emulator.endpoint,
      otlpEndpoint: 'http://127.0.0.1:1',
      dataDir: '/unused',
    });
    const sys = system(2, ['b.happened']);
    const url = envFor(sys, 'sub', env)[consumeQueueUrlVar('t')] as string;
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'via the env URL' }));
    const queue = messagingResources(sys, env).queues[0]!;
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 1 }));
    expect(got.Messages?.map((m) => m.Body)).toEqual(['via the env URL']);
  });
});
