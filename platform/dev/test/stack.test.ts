import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { envFor, literalEnv, messagingResources, topicArnVar } from '@flotilla/model';
import { PGLITE_NODE_FLAGS } from '@flotilla/runtime';
import { DEFAULT_SERVICE_NODE_FLAGS, type Stack, type StackFile } from '../src/index.js';
import { eventually } from '../src/testing.js';
import { alive, emulatorClients, startFixtureStack, testSystem } from './support.js';

const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];

describe('startStack (fixture services)', () => {
  let stack: Stack;
  let stateDir: string;
  const output: string[] = [];
  let clients: ReturnType<typeof emulatorClients> | undefined;
  let sqs: SQSClient;
  let sns: SNSClient;

  beforeAll(async () => {
    ({ stack, stateDir } = await startFixtureStack(testSystem, {
      restart: { initialDelayMs: 200 },
      output: (line) => output.push(line),
      color: false,
    }));
    clients = emulatorClients(stack.emulatorEndpoint);
    ({ sqs, sns } = clients);
  }, 60_000);

  afterAll(async () => {
    clients?.destroy();
    await stack?.stop();
    await rm(stateDir, { recursive: true, force: true });
  }, 30_000);

  const readStackFile = async (): Promise<StackFile> =>
    JSON.parse(await readFile(join(stateDir, 'stack.json'), 'utf8')) as StackFile;

  it('writes stack.json with the gateway, emulator, trace sink and each running service', async () => {
    const file = await readStackFile();
    expect(file.gatewayUrl).toBe(stack.gatewayUrl);
    expect(file.emulatorEndpoint).toBe(stack.emulatorEndpoint);
    expect(file.traceSinkUrl).toBe(stack.traceSinkUrl);
    expect(Object.keys(file.services).sort()).toEqual(['audit', 'catalog', 'web', 'worker']);
    for (const [name, s] of Object.entries(file.services)) {
      expect(s.state).toBe('running');
      expect(alive(s.pid!)).toBe(true);
      const env = (await (await fetch(`${s.url}/env`)).json()) as Record<string, string>;
      expect(env.SERVICE_NAME).toBe(name);
    }
  });

  it('gives each service exactly the variables envFor computes (plus PATH and friends)', async () => {
    for (const s of stack.services()) {
      const env = (await (await fetch(`${s.url}/env`)).json()) as Record<string, string>;
      for (const name of INHERITED) delete env[name];
      expect(env).toEqual(literalEnv(envFor(testSystem, s.name, stack.environment)));
    }
  });

  it('gives each service with a database its own embedded data directory under the state dir', async () => {
    const withDb = stack.services().filter((s) => s.dataDir);
    expect(withDb.map((s) => s.name).sort()).toEqual(['catalog', 'web']);
    for (const s of withDb) {
      expect(s.dataDir).toBe(join(stateDir, 'data', s.name));
      expect((await stat(join(s.dataDir!, 'PG_VERSION'))).isFile()).toBe(true);
    }
  });

  it('starts every service with the default Node flags, those with an embedded database also with PGlite flags', async () => {
    expect(DEFAULT_SERVICE_NODE_FLAGS).toEqual(['--max-semi-space-size=4']);
    expect(PGLITE_NODE_FLAGS).toEqual(['--liftoff-only']);
    for (const s of stack.services()) {
      const execArgv = (await (await fetch(`${s.url}/exec-argv`)).json()) as string[];
      const flags = execArgv.slice(0, execArgv.indexOf('--conditions=flotilla-source')); // the loader's follow
      expect([s.name, flags]).toEqual([
        s.name,
        [...DEFAULT_SERVICE_NODE_FLAGS, ...(s.dataDir ? PGLITE_NODE_FLAGS : [])],
      ]);
    }
  });

  it('creates every queue with its DLQ redrive policy and visibility timeout from the model', async () => {
    const { queues } = messagingResources(testSystem, stack.environment);
    expect(queues).toHaveLength(3);
    for (const q of queues) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['All'] }),
      );
      expect(Attributes?.VisibilityTimeout).toBe(String(q.visibilityTimeoutSeconds));
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({ deadLetterTargetArn: q.dlq.arn });
      expect(Number(JSON.parse(Attributes?.RedrivePolicy ?? '{}').maxReceiveCount)).toBe(q.maxReceiveCount);
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.dlq.url, AttributeNames: ['QueueArn'] }));
    }
  });

  it('delivers a published event raw, only to the queues whose filter policy matches its type', async () => {
    const { topics } = messagingResources(testSystem, stack.environment);
    const env = (name: string) => literalEnv(envFor(testSystem, name, stack.environment));
    // The publisher's variable names the topic the stack created.
    const topicArn = env('web')[topicArnVar('things')];
    expect(topicArn).toBe(topics[0]!.arn);
    const publish = (type: string) =>
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify({ type, id: `${type}-1` }),
          MessageAttributes: { type: { DataType: 'String', StringValue: type } },
        }),
      );
    await publish('thing.created');
    await publish('thing.deleted');
    const drain = async (service: string): Promise<string[]> => {
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: env(service).CONSUME_THINGS_QUEUE_URL,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
          }),
        );
        got.push(...(r.Messages ?? []).map((m) => (JSON.parse(m.Body!) as { type: string }).type));
      }
      return got.sort();
    };
    expect(await drain('worker')).toEqual(['thing.created']);
    expect(await drain('catalog')).toEqual(['thing.deleted']);
    expect(await drain('audit')).toEqual(['thing.created', 'thing.deleted']);
  });

  it('routes public prefixes through the gateway like the ingress, passing ids and setting X-Forwarded-*', async () => {
    const res = await fetch(`${stack.gatewayUrl}/api/things/42?x=1`, {
      method: 'POST',
      body: 'hello body',
      headers: {
        'x-request-id': 'req-123',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as {
      service: string;
      url: string;
      body: string;
      headers: Record<string, string>;
    };
    expect(echo).toMatchObject({ service: 'web', url: '/api/things/42?x=1', body: 'hello body' });
    expect(echo.headers['x-request-id']).toBe('req-123');
    expect(echo.headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('http');

    // Prefix semantics are per path segment: /api/things-admin is catalog's, not web's.
    const admin = (await (await fetch(`${stack.gatewayUrl}/api/things-admin/x`)).json()) as {
      service: string;
    };
    expect(admin.service).toBe('catalog');
    const exact = (await (await fetch(`${stack.gatewayUrl}/api/catalog`)).json()) as { service: string };
    expect(exact.service).toBe('catalog');

    const unknown = await fetch(`${stack.gatewayUrl}/api/thingsx`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect(((await unknown.json()) as { detail: string }).detail).toContain('/api/things');
  });

  it('restarts a crashed service, reports it, and updates its pid in stack.json', async () => {
    const before = (await readStackFile()).services.web!;
    await fetch(`${before.url}/crash`).then((r) => r.text());
    const after = await eventually('web restarted', async () => {
      const s = (await readStackFile()).services.web!;
      return s.pid !== before.pid && s.state === 'running' ? s : undefined;
    });
    expect(alive(before.pid!)).toBe(false);
    await eventually('web serving again', async () => {
      const r = await fetch(`${stack.gatewayUrl}/api/things/again`);
      return r.status === 200 ? true : undefined;
    });
    expect(alive(after.pid!)).toBe(true);
    expect(output.some((l) => /^web\s+crashed \(exit code 3\); restarting/.test(l))).toBe(true);
    expect(output.some((l) => /^web\s+\d\d:\d\d:\d\d\.\d{3} INFO {2}listening port=\d+$/.test(l))).toBe(true);
  });

  it('stop() ends every service process and removes stack.json', async () => {
    const pids = stack.services().map((s) => s.pid!);
    expect(pids.every(alive)).toBe(true);
    await stack.stop();
    expect(pids.filter(alive)).toEqual([]);
    await expect(stat(join(stateDir, 'stack.json'))).rejects.toThrow();
    await expect(fetch(`${stack.gatewayUrl}/api/things`)).rejects.toThrow();
  });
});
