/**
 * The SQS/SNS backends the messaging tests run on, and a system's messaging on one of them: every topic,
 * queue, dead-letter queue and subscription of the model's `messagingResources` (the list the charts
 * deploy), created through the AWS API so the same code provisions both backends. Queues get their
 * redrive policy (maxReceiveCount) and visibility timeout; subscriptions raw message delivery and the
 * model's filter policy.
 *
 * Backends: fauxqs (npm, in-process) and moto's server (PyPI, `scripts/moto.sh`), two independent
 * implementations of the AWS APIs. {@link describeEachBackend} runs one suite on both.
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  EMULATOR_ACCOUNT_ID,
  messagingResources,
  EMULATOR_CREDENTIALS,
  type MessagingResources,
  type RuntimeEnvironment,
  type System,
} from '@flotilla/model';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { MOTO_ACCOUNT_ID, startMotoServer } from './moto-server.js';

/** The two implementations of SQS and SNS the messaging suite runs on. */
export type MessagingBackendKind = 'fauxqs' | 'moto';

/** A running SQS/SNS implementation. */
export interface MessagingBackend {
  readonly kind: MessagingBackendKind;
  /** `http://127.0.0.1:<port>`: the environment's `messagingEndpoint`. */
  readonly endpoint: string;
  readonly region: string;
  /** The account the backend puts in ARNs and queue URLs (fauxqs's fixed one; moto's default). */
  readonly accountId: string;
  stop(): Promise<void>;
}

/** A system's topics, queues and subscriptions on a backend, with clients for it. */
export interface BackendMessagingStack {
  readonly backend: MessagingBackend;
  readonly endpoint: string;
  readonly env: RuntimeEnvironment;
  readonly resources: MessagingResources;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  stop(): Promise<void>;
}

/** The system's messaging on fauxqs, whose server object tests may drive directly. */
export interface MessagingStack extends BackendMessagingStack {
  readonly server: FauxqsServer;
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

/** Starts a backend of `kind` on a free loopback port. */
export async function startMessagingBackend(
  kind: MessagingBackendKind,
  region = 'us-east-1',
): Promise<MessagingBackend & { readonly server?: FauxqsServer }> {
  if (kind === 'fauxqs') {
    const { server, endpoint } = await startMessagingEmulator({ region });
    return { kind, endpoint, region, accountId: EMULATOR_ACCOUNT_ID, server, stop: () => server.stop() };
  }
  const moto = await startMotoServer();
  return { kind, endpoint: moto.endpoint, region, accountId: MOTO_ACCOUNT_ID, stop: moto.stop };
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

/** Creates every resource of `resources` through the SQS and SNS APIs at the clients' endpoint. */
export async function createMessagingResources(
  clients: EmulatorClients,
  resources: MessagingResources,
): Promise<void> {
  for (const t of resources.topics) {
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: t.name }));
    if (TopicArn !== t.arn)
      throw new Error(`topic ${t.name} was created as ${TopicArn}, the model says ${t.arn}`);
  }
  for (const q of resources.queues) {
    await clients.sqs.send(new CreateQueueCommand({ QueueName: q.dlq.name }));
    await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: q.name,
        Attributes: {
          VisibilityTimeout: String(q.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: q.dlq.arn,
            maxReceiveCount: q.maxReceiveCount,
          }),
        },
      }),
    );
    if (q.subscription) {
      await clients.sns.send(
        new SubscribeCommand({
          TopicArn: q.subscription.topicArn,
          Protocol: 'sqs',
          Endpoint: q.arn,
          Attributes: {
            RawMessageDelivery: 'true',
            ...(q.subscription.filterPolicy
              ? {
                  FilterPolicy: JSON.stringify(q.subscription.filterPolicy),
                  FilterPolicyScope: 'MessageAttributes',
                }
              : {}),
          },
        }),
      );
    }
  }
}

/** A local environment for `system` pointing at `endpoint`. */
export function emulatorEnvironment(
  endpoint: string,
  region = 'us-east-1',
  name = 'test',
  accountId = EMULATOR_ACCOUNT_ID,
): RuntimeEnvironment {
  return {
    name,
    platform: 'local',
    namespace: 'default',
    aws: { region, accountId },
    messagingEndpoint: endpoint,
    discovery: { method: 'static' },
    telemetry: { otlpEndpoint: 'http://127.0.0.1:4318' },
    database: { kind: 'embedded', dataDir: '.dev/data' },
  };
}

/** Starts a backend of `kind` and creates every topic, queue, DLQ and subscription of `system` on it. */
export async function startMessagingStackOn(
  kind: MessagingBackendKind,
  system: System,
  envName = 'test',
): Promise<BackendMessagingStack & { readonly server?: FauxqsServer }> {
  const backend = await startMessagingBackend(kind);
  const env = emulatorEnvironment(backend.endpoint, backend.region, envName, backend.accountId);
  const resources = messagingResources(system, env);
  const { sqs, sns } = emulatorClients(backend.endpoint, backend.region);
  const stop = async () => {
    sqs.destroy();
    sns.destroy();
    await backend.stop();
  };
  try {
    await createMessagingResources({ sqs, sns }, resources);
  } catch (err) {
    await stop();
    throw err;
  }
  return { backend, endpoint: backend.endpoint, env, resources, sqs, sns, server: backend.server, stop };
}

/** Starts fauxqs and creates every topic, queue, DLQ and subscription of `system` in it. */
export async function startMessagingStack(system: System, envName = 'test'): Promise<MessagingStack> {
  const stack = await startMessagingStackOn('fauxqs', system, envName);
  return { ...stack, server: stack.server! };
}
