/**
 * useConsumer with what the model declares: the subscription's settings reach the consumer through
 * envFor's variables, the inbox's database is a dependency the consumer pauses for, and an SQS outage
 * shows in /readyz's body and the logs without taking the service out of HTTP service.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineService, defineSystem, envFor, literalEnv } from '@flotilla/model';
import { z } from 'zod';
import { createService, useConsumer, useDatabase, type Service } from '../src/index.js';
import { memoryLog } from './support/memory-log.js';
import { emulatorEnvironment, startMessagingStack, type MessagingStack } from './support/messaging-stack.js';
import { sendEvent, until } from './support/messaging-queues.js';

const system = defineSystem({
  name: 'wcons',
  topics: [],
  services: [
    defineService({
      name: 'worker',
      port: 9301,
      consumes: [{ queue: 'work', visibilityTimeoutSeconds: 5, handlerTimeoutSeconds: 1 }],
      database: true,
    }),
  ],
});
const schemas = { 'job.run': z.object({ name: z.string() }) };

let stack: MessagingStack;
let dataDir: string;
const services: Service[] = [];

beforeAll(async () => {
  stack = await startMessagingStack(system);
  dataDir = await mkdtemp(join(tmpdir(), 'flotilla-wiring-consumer-'));
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function service(endpoint: string, dir: string) {
  const env: Record<string, string> = {
    ...literalEnv(envFor(system, 'worker', emulatorEnvironment(endpoint))),
    PORT: '0',
    OTEL_SDK_DISABLED: 'true',
    DATABASE_DIR: join(dataDir, dir),
  };
  const log = memoryLog();
  const svc = createService({ name: 'worker', env, manageProcess: false, logDestination: log });
  services.push(svc);
  return { svc, log, env };
}

const messages = (log: { lines: Record<string, unknown>[] }, msg: string) =>
  log.lines.filter((l) => l.msg === msg);

describe('useConsumer', () => {
  test("takes the subscription's handler deadline from the model", async () => {
    const { svc, env } = service(stack.endpoint, 'deadline');
    let reason: unknown;
    useConsumer(svc, 'work', {
      schemas,
      waitTimeSeconds: 1,
      handler: (_e, ctx) =>
        new Promise<void>((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            reject(ctx.signal.reason as Error);
          }),
        ),
    });
    await svc.start();
    await sendEvent(stack.sqs, env.CONSUME_WORK_QUEUE_URL!, 'job.run', { name: 'slow' });
    await until(() => reason !== undefined, 10_000);
    expect((reason as Error).message).toMatch(
      /^the handler of wcons-test-worker-work ran past its deadline of 1 s/,
    );
    await svc.stop();
  }, 30_000);

  test('with an inbox, pauses receiving while its database is down', async () => {
    const { svc, env, log } = service(stack.endpoint, 'inbox');
    const database = await useDatabase(svc, { migrations: [] });
    const handled: string[] = [];
    useConsumer(svc, 'work', {
      schemas,
      inbox: database,
      waitTimeSeconds: 1,
      handler: async (e) => void handled.push(e.data.name),
    });
    const { url } = await svc.start();
    await sendEvent(stack.sqs, env.CONSUME_WORK_QUEUE_URL!, 'job.run', { name: 'first' });
    // (the previous test's message may come first: the queue is the same)
    await until(() => handled.includes('first'), 10_000);
    await database.close(); // the database goes away under the running consumer
    await sendEvent(stack.sqs, env.CONSUME_WORK_QUEUE_URL!, 'job.run', { name: 'second' });
    const paused = 'dependency database unavailable: receiving paused until it is back';
    await until(() => messages(log, paused).length > 0, 10_000);
    // The database fails readiness (HTTP needs it); the consumer says it waits for it.
    const body = (await (await fetch(`${url}/readyz`)).json()) as {
      failing?: string[];
      checks: Record<string, { error?: string }>;
    };
    expect(body.failing).toEqual(['database']);
    expect(body.checks['consumer wcons-test-worker-work']!.error).toMatch(
      /paused since .*dependency database unavailable/,
    );
    expect(handled).not.toContain('second');
    await svc.stop().catch(() => undefined);
  }, 30_000);

  test('an SQS outage does not fail readiness: /readyz reports the consumer, the log says why', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r())); // nothing listens there now: SQS is unreachable
    const { svc, log } = service(`http://127.0.0.1:${port}`, 'outage');
    useConsumer(svc, 'work', { schemas, waitTimeSeconds: 1, handler: () => undefined });
    const { url } = await svc.start();
    await until(() => messages(log, 'ReceiveMessage failed; retrying').length >= 3, 20_000);
    const res = await fetch(`${url}/readyz`);
    const body = (await res.json()) as {
      status: string;
      degraded?: string[];
      checks: Record<string, { status: string; error?: string; affectsReadiness?: boolean }>;
    };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.degraded).toEqual(['consumer wcons-test-worker-work']);
    expect(body.checks['consumer wcons-test-worker-work']).toMatchObject({
      status: 'fail',
      affectsReadiness: false,
      error: expect.stringMatching(/cannot receive \(\d+ failures in a row\): .*ECONNREFUSED/),
    });
    expect(String(messages(log, 'ReceiveMessage failed; retrying')[0]!.err)).toMatch(/ECONNREFUSED/);
    await svc.stop();
  }, 30_000);
});
