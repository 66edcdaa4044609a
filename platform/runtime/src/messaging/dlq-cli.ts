/**
 * `make dlq` / `make redrive QUEUE=<queue name | service/key>`: dead-letter queues of the system.
 *
 *   node --import tsx platform/runtime/src/messaging/dlq-cli.ts list
 *   node --import tsx platform/runtime/src/messaging/dlq-cli.ts redrive <queue name | service/key> [--max N]
 *
 * Options: --system <path to system.ts> (default services/system.ts), --env <name> (default local),
 * --endpoint <url> (default AWS_ENDPOINT_URL_SQS, else `.dev/stack.json` emulatorEndpoint when --env is
 * local, else real AWS), --region (default AWS_REGION or us-east-1), --account (default AWS_ACCOUNT_ID;
 * 000000000000 on an emulator).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  EMULATOR_ACCOUNT_ID,
  ENV,
  EMULATOR_CREDENTIALS,
  isSystem,
  messagingResources,
  type RuntimeEnvironment,
  type System,
} from '@flotilla/model';
import { listDeadLetters, redrive } from './dead-letters.js';

function fail(message: string): never {
  process.stderr.write(`dlq: ${message}\n`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    system: { type: 'string', default: 'services/system.ts' },
    env: { type: 'string', default: 'local' },
    endpoint: { type: 'string' },
    region: { type: 'string' },
    account: { type: 'string' },
    max: { type: 'string' },
  },
});

function endpointOf(): string | undefined {
  if (values.endpoint) return values.endpoint;
  const fromEnv = process.env[ENV.sqsEndpoint];
  if (fromEnv) return fromEnv;
  if (values.env !== 'local') return undefined;
  const file = resolve('.dev/stack.json');
  if (!existsSync(file))
    fail('no local stack found (.dev/stack.json): start it with `make dev`, or pass --endpoint');
  const stack = JSON.parse(readFileSync(file, 'utf8')) as { emulatorEndpoint?: string };
  if (!stack.emulatorEndpoint) fail(`${file} has no "emulatorEndpoint": restart \`make dev\``);
  return stack.emulatorEndpoint;
}

async function loadSystem(path: string): Promise<System> {
  const file = resolve(path);
  if (!existsSync(file)) fail(`system model not found at ${file}: pass --system <path to system.ts>`);
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (!isSystem(mod.default)) fail(`${file} has no default export made by defineSystem`);
  return mod.default;
}

const endpoint = endpointOf();
const region = values.region ?? process.env[ENV.awsRegion] ?? 'us-east-1';
const accountId =
  values.account ?? process.env.AWS_ACCOUNT_ID ?? (endpoint ? EMULATOR_ACCOUNT_ID : undefined);
if (!accountId) fail('real AWS needs the account id for queue URLs: pass --account or set AWS_ACCOUNT_ID');
const env: RuntimeEnvironment = {
  name: values.env,
  platform: values.env === 'local' ? 'local' : 'eks',
  namespace: 'default',
  aws: { region, accountId },
  ...(endpoint ? { messagingEndpoint: endpoint } : {}),
  discovery: { method: 'static' },
  telemetry: { otlpEndpoint: 'http://127.0.0.1:4318' },
  database: { kind: 'secret' },
};
const system = await loadSystem(values.system);
const resources = messagingResources(system, env);
const sqs = new SQSClient({
  region,
  ...(endpoint ? { endpoint, credentials: EMULATOR_CREDENTIALS } : {}),
});

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const [command = 'list', target] = positionals;
if (command === 'list') {
  const report = await listDeadLetters(resources, { sqs });
  const rows = [['SERVICE/KEY', 'DLQ', 'DEPTH', 'IN FLIGHT', 'SAMPLE']];
  for (const r of report) {
    const s = r.samples[0];
    rows.push([
      `${r.service}/${r.key}`,
      r.dlqName,
      r.error ? 'error' : String(r.depth),
      String(r.inFlight),
      r.error ?? (s ? `${s.type ?? '?'} ${s.eventId ?? s.messageId} ${s.reason ?? ''}`.trim() : ''),
    ]);
  }
  process.stdout.write(`${table(rows)}\n`);
} else if (command === 'redrive') {
  if (!target) fail('which queue? `make redrive QUEUE=<queue name or service/key>`');
  const q = resources.queues.find((r) => r.name === target || `${r.service}/${r.key}` === target);
  if (!q)
    fail(
      `unknown queue "${target}"; known: ${resources.queues.map((r) => `${r.service}/${r.key}`).join(', ')}`,
    );
  const max = values.max ? Number(values.max) : undefined;
  const result = await redrive({ sqs, dlqUrl: q.dlq.url, sourceQueueUrl: q.url, ...(max ? { max } : {}) });
  process.stdout.write(`${q.dlq.name} -> ${q.name}: moved ${result.moved}, failed ${result.failed}\n`);
  if (result.failed > 0) process.exitCode = 1;
} else {
  fail(`unknown command "${command}": use list or redrive <queue>`);
}
sqs.destroy();
