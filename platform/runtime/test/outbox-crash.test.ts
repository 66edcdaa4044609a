import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FauxqsServer } from 'fauxqs';
import { describeEachEngine, type TestEngine } from './support/db-engines.js';
import { receiveAll, topicWithQueue } from './support/db-outbox-publisher.js';
import { emulatorClients, startMessagingEmulator, type EmulatorClients } from './support/messaging-stack.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'outbox-crash.ts');

let server: FauxqsServer;
let endpoint: string;
let clients: EmulatorClients;
beforeAll(async () => {
  ({ server, endpoint } = await startMessagingEmulator());
  clients = emulatorClients(endpoint);
});
afterAll(async () => {
  clients.sns.destroy();
  clients.sqs.destroy();
  await server.stop();
});

/** Runs the fixture; resolves with its stdout once `line` (a prefix) is printed, or with its exit. */
function run(mode: 'write' | 'relay', env: Record<string, string>, waitFor: string) {
  const child = spawn(
    process.execPath,
    ['--conditions', 'flotilla-source', '--import', 'tsx', fixture, mode],
    {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const printed = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith(waitFor));
      if (line) resolve(line.slice(waitFor.length).trim());
    });
    void exited.then(({ code }) =>
      reject(new Error(`fixture ${mode} exited (${code}) before "${waitFor}": ${stderr}`)),
    );
  });
  return { child, printed, exited };
}

async function crashAndRestart(engine: TestEngine, topic: string) {
  const { topicArn, queueUrl } = await topicWithQueue(clients, topic);
  const location = await engine.fresh();
  const env = {
    ...('url' in location ? { DATABASE_URL: location.url } : { DATABASE_DIR: location.dir }),
    AWS_ENDPOINT_URL_SNS: endpoint,
    TOPIC_ORDER_EVENTS_ARN: topicArn,
  };

  const writer = run('write', env, 'READY');
  const ids = JSON.parse(await writer.printed) as { committed: string[]; rolledBack: string; open: string };
  writer.child.kill('SIGKILL');
  expect(await writer.exited).toEqual({ code: null, signal: 'SIGKILL' });
  expect(await receiveAll(clients, queueUrl, 0)).toEqual([]); // killed before anything was published

  const relay = run('relay', env, 'DRAINED');
  await relay.printed;
  expect((await relay.exited).code).toBe(0);
  return { ids, received: await receiveAll(clients, queueUrl, ids.committed.length) };
}

describeEachEngine('outbox crash', (engine) => {
  test('SIGKILL after commit and before publish: on restart every committed event is published, nothing else', async () => {
    const { ids, received } = await crashAndRestart(engine, `crash-${engine.kind}`);
    expect(ids.committed).toHaveLength(5);
    expect(received.map((r) => r.id).sort()).toEqual([...ids.committed].sort());
    expect(received.map((r) => r.id)).not.toContain(ids.rolledBack);
    expect(received.map((r) => r.id)).not.toContain(ids.open);
  }, 60_000);
});
