/**
 * `make dlq` and `make redrive` (dlq-cli.ts) as an operator runs them next to a local stack: the CLI finds
 * the emulator and the services in `.dev/stack.json`, lists each queue's dead-letter queue and each
 * service's outbox dead letters with their reason, and re-drives a service's outbox.
 */
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { envFor, literalEnv, type QueueResource } from '@flotilla/model';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  createService,
  useDatabase,
  useOutbox,
  usePublisher,
  type Database,
  type Service,
  type WiredOutbox,
} from '../src/index.js';
import system from './fixtures/dlq-system.js';
import { memoryLog } from './support/memory-log.js';
import { receiveAll, until } from './support/messaging-queues.js';
import { startMessagingStack, type MessagingStack } from './support/messaging-stack.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../src/messaging/dlq-cli.ts');
const systemFile = join(here, 'fixtures/dlq-system.ts');
const events = {
  'order.placed': z.object({ orderId: z.string() }),
  'charge.requested': z.object({ orderId: z.string(), note: z.string() }),
};

let stack: MessagingStack;
let root: string;
let svc: Service;
let database: Database<unknown>;
let outbox: WiredOutbox<unknown, typeof events>;
let charges: QueueResource;

beforeAll(async () => {
  stack = await startMessagingStack(system, 'local');
  root = await mkdtemp(join(tmpdir(), 'flotilla-dlq-cli-'));
  charges = stack.resources.queues.find((q) => q.service === 'back' && q.key === 'charges')!;
  svc = createService({
    name: 'front',
    manageProcess: false,
    logDestination: memoryLog(),
    env: {
      ...literalEnv(envFor(system, 'front', stack.env)),
      PORT: '0',
      OTEL_SDK_DISABLED: 'true',
      DATABASE_DIR: join(root, 'front'),
    },
  });
  database = await useDatabase(svc, { migrations: [] });
  const publisher = usePublisher(svc, events);
  outbox = useOutbox(svc, { database, publisher, schemas: events, maxSenderFaults: 1 });
  const { url } = await svc.start();
  await mkdir(join(root, '.dev'));
  await writeFile(
    join(root, '.dev/stack.json'),
    JSON.stringify({
      emulatorEndpoint: stack.endpoint,
      services: { front: { url, port: 0, state: 'running' } },
    }),
  );
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await stack?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

function dlqCli(...args: string[]): Promise<{ code: number; output: string }> {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=flotilla-source', '--import', tsx, cli, ...args, '--system', systemFile],
      { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}

test('make dlq shows a service’s outbox dead letters with the reason; make redrive sends them again', async () => {
  // The charges queue takes 1 KiB at most: a 2 KB command is refused as the sender's fault and parked.
  await stack.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: charges.url, Attributes: { MaximumMessageSize: '1024' } }),
  );
  const parked = await database.transaction((trx) =>
    outbox.send(trx, 'back/charges', {
      type: 'charge.requested',
      data: { orderId: 'o-1', note: 'x'.repeat(2000) },
    }),
  );
  await until(async () => (await outbox.deadLetters()).count === 1, 20_000);

  const listed = await dlqCli('list');
  expect(listed.code).toBe(0);
  const row = listed.output.split('\n').find((l) => l.startsWith('front/outbox '));
  expect(row).toMatch(
    new RegExp(
      `^front/outbox\\s+\\(outbox\\)\\s+1\\s+-\\s+charge\\.requested ${parked.id} back/charges: .*1024 bytes`,
    ),
  );
  // The queues' own dead-letter queues are listed as before.
  expect(listed.output).toMatch(/^back\/charges\s+dlq-local-back-charges-dlq\s+0\s+0/m);

  await stack.sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: charges.url, Attributes: { MaximumMessageSize: '1048576' } }),
  );
  const redriven = await dlqCli('redrive', 'front/outbox');
  expect(redriven).toEqual({ code: 0, output: 'front outbox dead letters -> relay: re-driven 1\n' });
  const got = await receiveAll(stack.sqs, charges.url, 1, 10_000);
  expect(got.map((m) => (JSON.parse(m.Body!) as { id: string }).id)).toEqual([parked.id]);
  expect((await outbox.deadLetters()).count).toBe(0);
}, 60_000);
