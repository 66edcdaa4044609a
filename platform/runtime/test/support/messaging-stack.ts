/**
 * An in-process SQS/SNS emulator (fauxqs) holding every topic, queue, dead-letter queue and subscription
 * of a system, created from the model's `messagingResources` — the same list the charts deploy. Queues get
 * their redrive policy (maxReceiveCount) and visibility timeout; subscriptions raw message delivery and
 * the model's filter policy.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  messagingResources,
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

/**
 * fauxqs names queues `http://sqs.<region>.localhost:<port>/<account>/<name>`, which does not resolve here
 * and differs from the model's `queueUrl(env, name)` = `<messagingEndpoint>/<account>/<name>`. Queues are
 * looked up by exact URL, so we make fauxqs use the address it was reached at (`127.0.0.1:<port>`), as
 * the model expects. Checked after start: if a fauxqs upgrade changes this, `startMessagingEmulator` fails.
 */
async function useRequestHostInQueueUrls(): Promise<void> {
  const require = createRequire(import.meta.url);
  const file = (require.resolve.paths('fauxqs') ?? [])
    .map((p) => join(p, 'fauxqs/dist/sqs/sqsStore.js'))
    .find((p) => existsSync(p));
  if (!file) throw new Error('fauxqs is not installed: run `make deps`');
  const mod = (await import(pathToFileURL(file).href)) as {
    SqsStore: {
      prototype: { buildQueueUrl(name: string, port: string, requestHost: string, region: string): string };
    };
  };
  mod.SqsStore.prototype.buildQueueUrl = (name, _port, requestHost) =>
    `http://${requestHost}/000000000000/${name}`;
}

/** Starts fauxqs on `port` (0: any free port) and returns the environment pointing at it. */
export async function startMessagingEmulator(options: { port?: number; region?: string } = {}): Promise<{
  server: FauxqsServer;
  endpoint: string;
  region: string;
}> {
  await useRequestHostInQueueUrls();
  const region = options.region ?? 'us-east-1';
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, defaultRegion: region });
  const endpoint = `http://127.0.0.1:${server.port}`;
  return { server, endpoint, region };
}

/** AWS SDK clients for an emulator endpoint (any credentials are accepted). */
export function emulatorClients(endpoint: string, region = 'us-east-1'): { sqs: SQSClient; sns: SNSClient } {
  const config = {
    endpoint,
    region,
    credentials: { accessKeyId: 'flotilla-local', secretAccessKey: 'flotilla-local' },
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
    aws: { region, accountId: '000000000000' },
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
  if (probe && !server.inspectQueue(probe.name)?.url.startsWith(endpoint)) {
    throw new Error(
      `fauxqs queue URLs do not match the model's (${probe.url}): check useRequestHostInQueueUrls`,
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
