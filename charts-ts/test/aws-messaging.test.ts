import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { consumeQueueUrlVar, envFor, messagingResources, topicArnVar } from '@flotilla/model';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { shop } from '../../services/system.js';
import { EMULATOR_START_SCRIPT, emulatorInitConfig } from '../src/constructs/emulator.js';
import { dev, local, prod } from '../src/environments/index.js';
import { loadManifests } from './support/manifests.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
describe.each([
  ['dev', dev],
  ['prod', prod],
] as const)('ACK messaging in %s', (name, env) => {
  const objects = loadManifests(shop, [env]).get(name)!;
  const queues = objects.filter((o) => o.kind === 'Queue');
  const byName = (n: string) => queues.find((q) => (q.spec as any).queueName === n);
  const resources = messagingResources(shop, env.runtime);

  it('creates every consumer queue with its own DLQ and a redrive policy to it', () => {
    expect(resources.queues.length).toBe(shop.services.flatMap((s) => s.consumes).length);
    for (const q of resources.queues) {
      const queue = byName(q.name);
      const dlq = byName(q.dlq.name);
      expect(queue).toBeDefined();
      expect(dlq).toBeDefined();
      expect(JSON.parse((queue!.spec as any).redrivePolicy)).toEqual({
        deadLetterTargetArn: q.dlq.arn,
        maxReceiveCount: q.maxReceiveCount,
      });
      expect(JSON.parse((dlq!.spec as any).redriveAllowPolicy)).toEqual({
        redrivePermission: 'byQueue',
        sourceQueueArns: [q.arn],
      });
      expect((queue!.spec as any).visibilityTimeout).toBe(String(q.visibilityTimeoutSeconds));
    }
    expect(queues.length).toBe(resources.queues.length * 2);
  });

  it('lets only its own topic send to a topic-fed queue', () => {
    const fed = resources.queues.filter((x) => x.subscription);
    expect(fed.length).toBeGreaterThan(0);
    for (const q of fed) {
      const policy = JSON.parse((byName(q.name)!.spec as any).policy);
      expect(policy.Statement).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: q.arn,
          Condition: { ArnEquals: { 'aws:SourceArn': q.subscription!.topicArn } },
        }),
      ]);
    }
  });

  it('subscribes each queue to its topic with raw delivery and the model filter policy', () => {
    const subs = objects.filter((o) => o.kind === 'Subscription');
    expect(subs.length).toBe(resources.queues.filter((q) => q.subscription).length);
    for (const q of resources.queues.filter((x) => x.subscription)) {
      const sub = subs.find((s) => (s.spec as any).endpoint === q.arn)!;
      expect(sub.spec).toMatchObject({
        protocol: 'sqs',
        topicARN: q.subscription!.topicArn,
        rawMessageDelivery: 'true',
      });
      const declared = shop.service(q.service).consumes.find((c) => c.key === q.key)!.events;
      expect(JSON.parse((sub.spec as any).filterPolicy)).toEqual({ type: declared });
    }
    const topics = objects.filter((o) => o.kind === 'Topic').map((t) => (t.spec as any).name);
    expect(topics.sort()).toEqual(shop.topics.map((t) => `shop-${name}-${t.name}`).sort());
  });
});

describe('the kind emulator', () => {
  it('is a hardened Deployment whose init config creates every queue, DLQ, topic and subscription of the model', () => {
    const objects = loadManifests(shop, [local]).get('local')!;
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'messaging-emulator')!;
    const init = JSON.parse((cm as any).data['init.json']);
    const resources = messagingResources(shop, local.runtime);
    expect(init.queues.map((q: any) => q.name).sort()).toEqual(
      resources.queues.flatMap((q) => [q.name, q.dlq.name]).sort(),
    );
    expect(init.topics.map((t: any) => t.name).sort()).toEqual(resources.topics.map((t) => t.name).sort());
    expect(init.subscriptions).toHaveLength(resources.queues.filter((q) => q.subscription).length);
    const deploy = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'messaging-emulator')!;
    const pod = (deploy.spec as any).template.spec;
    // The image runs the fauxqs version the local stack runs from npm, so kind and `make dev` agree.
    const fauxqsDist = dirname(fileURLToPath(import.meta.resolve('fauxqs')));
    const installed = JSON.parse(readFileSync(join(fauxqsDist, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(pod.containers[0].image).toBe(`kibertoad/fauxqs:${installed.version}`);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  describe('running its start script against the fauxqs package', () => {
    let child: ChildProcess | undefined;
    let port = 0;

    beforeAll(async () => {
      port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'flotilla-emulator-'));
      writeFileSync(join(dir, 'init.json'), JSON.stringify(emulatorInitConfig(shop, local)));
      writeFileSync(join(dir, 'start.mjs'), EMULATOR_START_SCRIPT);
      // The package exports only its ESM entry (dist/app.js); the start script imports its siblings.
      const dist = dirname(fileURLToPath(import.meta.resolve('fauxqs')));
      child = spawn(process.execPath, [join(dir, 'start.mjs')], {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          FAUXQS_DIST: dist,
          FAUXQS_PORT: String(port),
          FAUXQS_LISTEN_HOST: '127.0.0.1',
          FAUXQS_DEFAULT_REGION: local.runtime.aws.region,
          FAUXQS_INIT: join(dir, 'init.json'),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.on('data', (b: Buffer) => b.toString().includes('fauxqs ready') && resolve());
        child!.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
      });
    }, 20_000);

    afterAll(() => {
      child?.kill('SIGTERM');
    });

    it('delivers a published event to exactly the subscribers whose filter matches, at the URLs envFor gives', async () => {
      const endpoint = `http://127.0.0.1:${port}`;
      // The services' own variables: the requests go to this process (endpoint); the queue URL names the
      // queue, and the start script's hook accepts it although it spells the in-cluster host and port.
      const config = {
        endpoint,
        region: local.runtime.aws.region,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      };
      const sns = new SNSClient(config);
      const sqs = new SQSClient(config);
      const topicArn = envFor(shop, 'orders', local.runtime)[topicArnVar('orders')] as string;
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify({ id: '1', type: 'order.placed' }),
          MessageAttributes: { type: { DataType: 'String', StringValue: 'order.placed' } },
        }),
      );
      const receive = async (service: string) => {
        const url = envFor(shop, service, local.runtime)[consumeQueueUrlVar('orders')] as string;
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
        );
        return out.Messages ?? [];
      };
      // The model says who takes order.placed (payments charges it, inventory confirms the reservation);
      // notifications consumes the topic too, but filters on other event types.
      const takes = (service: string) =>
        shop
          .service(service)
          .consumes.some((c) => c.topic === 'orders' && c.events?.includes('order.placed'));
      expect(['inventory', 'notifications', 'payments'].map((s) => [s, takes(s)])).toEqual([
        ['inventory', true],
        ['notifications', false],
        ['payments', true],
      ]);
      for (const service of ['inventory', 'payments']) {
        const messages = await receive(service);
        expect(messages).toHaveLength(1);
        // Raw delivery: the body is the event itself, not an SNS envelope.
        expect(JSON.parse(messages[0]!.Body!)).toEqual({ id: '1', type: 'order.placed' });
      }
      expect(await receive('notifications')).toHaveLength(0);
      sns.destroy();
      sqs.destroy();
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
