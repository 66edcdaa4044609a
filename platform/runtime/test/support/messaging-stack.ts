/**
 * An in-process SQS/SNS emulator (fauxqs) holding every topic, queue, dead-letter queue and subscription
 * of a system, created from the model's `messagingResources` — the same list the charts deploy. Queues get
 * their redrive policy (maxReceiveCount) and visibility timeout; subscriptions raw message delivery and
 * the model's filter policy.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  EMULATOR_ACCOUNT_ID,
  messagingResources,
  EMULATOR_CREDENTIALS,
  type MessagingResources,
  type RuntimeEnvironment,
  type System,
} from '@flotilla/model';
import { startFauxqs, type FauxqsServer } from 'fauxqs';

export interface MessagingStack {
  /** `http://127.0.0.1:<port>`: the environment's `messagingEndpoint`. */
  readonly endpoint: string;
  readonly env: RuntimeEnvironment;
  readonly resources: MessagingResources;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly server: FauxqsServer;
  stop(): Promise<void>;
}

/** Starts fauxqs on `port` (0: any free port) and returns the environment pointing at it. */
export async function startMessagingEmulator(options: { port?: number; region?: string } = {}): Promise<{
  server: FauxqsServer;
  endpoint: string;
  region: string;
}> {
  const region = options.region ?? 'us-east-1';
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, defaultRegion: region });
  const endpoint = `http://127.0.0.1:${server.port}`;
  return { server, endpoint, region };
}

export interface EmulatorClients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

/** AWS SDK clients for an emulator endpoint (any credentials are accepted). */
export function emulatorClients(endpoint: string, region = 'us-east-1'): EmulatorClients {
  const config = {
    endpoint,
    region,
    credentials: EMULATOR_CREDENTIALS,
  };
  return { sqs: new SQSClient(config), sns: new SNSClient(config) };
}

/** Creates every resource of `resources` in a running fauxqs server. */
export function createMessagingResources(server: FauxqsServer, resources: MessagingResources): void {
  for (const t of resources.topics) server.createTopic(t.name);
  for (const q of resources.queues) {
    server.createQueue(q.dlq.name);
    server.createQueue(q.name, {
      attributes: {
        VisibilityTimeout: String(q.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: q.dlq.arn, maxReceiveCount: q.maxReceiveCount }),
      },
    });
    if (q.subscription) {
      const topic = resources.topics.find((t) => t.key === q.subscription?.topicKey);
      if (!topic) throw new Error(`Queue ${q.name} subscribes to unknown topic ${q.subscription.topicKey}`);
      server.subscribe({
        topic: topic.name,
        queue: q.name,
        attributes: {
          RawMessageDelivery: 'true',
          ...(q.subscription.filterPolicy
            ? { FilterPolicy: JSON.stringify(q.subscription.filterPolicy) }
            : {}),
        },
      });
    }
  }
}

/** A local environment for `system` pointing at `endpoint`. */
export function emulatorEnvironment(
  endpoint: string,
  region = 'us-east-1',
  name = 'test',
): RuntimeEnvironment {
  return {
    name,
    platform: 'local',
    namespace: 'default',
    aws: { region, accountId: EMULATOR_ACCOUNT_ID },
    messagingEndpoint: endpoint,
    discovery: { method: 'static' },
    telemetry: { otlpEndpoint: 'http://127.0.0.1:4318' },
    database: { kind: 'embedded', dataDir: '.dev/data' },
  };
}

/** Starts fauxqs and creates every topic, queue, DLQ and subscription of `system` in it. */
export async function startMessagingStack(system: System, envName = 'test'): Promise<MessagingStack> {
  const { server, endpoint, region } = await startMessagingEmulator();
  const env = emulatorEnvironment(endpoint, region, envName);
  const resources = messagingResources(system, env);
  createMessagingResources(server, resources);
  const probe = resources.queues[0];
  // fauxqs identifies queues by exact URL; the model computes the same URL (see queueUrl in the model).
  if (probe && server.inspectQueue(probe.name)?.url !== probe.url) {
    throw new Error(
      `fauxqs queue URL ${server.inspectQueue(probe.name)?.url} differs from the model's ${probe.url}`,
    );
  }
  const { sqs, sns } = emulatorClients(endpoint, region);
  return {
    endpoint,
    env,
    resources,
    sqs,
    sns,
    server,
    async stop() {
      sqs.destroy();
      sns.destroy();
      await server.stop();
    },
  };
}
