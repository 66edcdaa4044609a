/**
 * `make dlq` / `make redrive QUEUE=<queue name | service/key | service/outbox>`: dead letters of the
 * system: each queue's dead-letter queue, and each service's outbox dead letters (rows its relay parked).
 *
 *   node --import tsx platform/runtime/src/messaging/dlq-cli.ts list
 *   node --import tsx platform/runtime/src/messaging/dlq-cli.ts redrive <queue name | service/key> [--max N]
 *   node --import tsx platform/runtime/src/messaging/dlq-cli.ts redrive <service>/outbox
 *
 * Options: --system <path to system.ts> (default services/system.ts), --env <name> (default local),
 * --endpoint <url> (default AWS_ENDPOINT_URL_SQS, else `.dev/stack.json` emulatorEndpoint when --env is
 * local, else real AWS), --region (default AWS_REGION or us-east-1), --account (default AWS_ACCOUNT_ID;
 * 000000000000 on an emulator), --service-url <service>=<url> (repeatable; where a service answers about
 * its outbox, default the services of `.dev/stack.json` when --env is local; elsewhere e.g. through
 * `kubectl port-forward`). Services with a database that publish or send are asked about their outbox.
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
import { OUTBOX_ADMIN_PATH, type OutboxDeadLetterReport } from '../outbox/dead-letters.js';
import { listDeadLetters, redrive } from './dead-letters.js';
import { DEFAULT_AWS_DEADLINE } from '../wiring/aws.js';
import { awsDeadlineConfig, nameTimeouts } from '../wiring/aws-deadline.js';

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
    'service-url': { type: 'string', multiple: true },
  },
});

interface LocalStack {
  emulatorEndpoint?: string;
  services?: Record<string, { url?: string }>;
}

function localStack(): LocalStack | undefined {
  if (values.env !== 'local') return undefined;
  const file = resolve('.dev/stack.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalStack) : undefined;
}

function endpointOf(): string | undefined {
  if (values.endpoint) return values.endpoint;
  const fromEnv = process.env[ENV.sqsEndpoint];
  if (fromEnv) return fromEnv;
  if (values.env !== 'local') return undefined;
  const stack = localStack();
  if (!stack) fail('no local stack found (.dev/stack.json): start it with `make dev`, or pass --endpoint');
  if (!stack.emulatorEndpoint) fail('.dev/stack.json has no "emulatorEndpoint": restart `make dev`');
  return stack.emulatorEndpoint;
}

/** Where each service answers about its outbox: --service-url, else the local stack's services. */
function serviceUrls(): Map<string, string> {
  const urls = new Map<string, string>();
  for (const [name, service] of Object.entries(localStack()?.services ?? {}))
    if (service.url) urls.set(name, service.url);
  for (const pair of values['service-url'] ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0)
      fail(`--service-url ${pair}: write it as <service>=<url>, e.g. orders=http://127.0.0.1:8081`);
    urls.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return urls;
}

/** Asks a service about its outbox; undefined when it has none (404). */
async function outboxCall<T>(url: string, path: string, method: 'GET' | 'POST'): Promise<T | undefined> {
  const response = await fetch(`${url.replace(/\/+$/, '')}${OUTBOX_ADMIN_PATH}${path}`, {
    method,
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`${method} ${OUTBOX_ADMIN_PATH}${path} answered ${response.status}`);
  return (await response.json()) as T;
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
// Bounded like a service's own client: a queue endpoint that does not answer fails the command, naming it.
const sqs = nameTimeouts(
  new SQSClient({
    region,
    ...awsDeadlineConfig(DEFAULT_AWS_DEADLINE),
    ...(endpoint ? { endpoint, credentials: EMULATOR_CREDENTIALS } : {}),
  }),
  'SQS',
  DEFAULT_AWS_DEADLINE.deadlineMs,
);

/** `<service>/outbox` names a service's outbox dead letters, unless a queue of that service is called `outbox`. */
function isOutboxTarget(name: string): boolean {
  if (!name.endsWith('/outbox')) return false;
  return !resources.queues.some((q) => `${q.service}/${q.key}` === name || q.name === name);
}

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

/** Services whose outbox may hold rows: they own a database and publish or send. */
const outboxServices = system.services
  .filter((s) => s.database && (s.publishes.length > 0 || s.sends.length > 0))
  .map((s) => s.name);

/** One table row per service outbox that answered (with its dead letters), and the services not asked. */
async function outboxRows(): Promise<{ rows: string[][]; unknown: string[] }> {
  const urls = serviceUrls();
  const unknown = outboxServices.filter((service) => !urls.has(service));
  const rows = await Promise.all(
    outboxServices.map(async (service): Promise<string[] | undefined> => {
      const url = urls.get(service);
      const key = `${service}/outbox`;
      if (!url) return undefined;
      try {
        const report = await outboxCall<OutboxDeadLetterReport>(url, '/dead-letters?limit=1', 'GET');
        if (!report) return undefined; // the service has no outbox
        const s = report.samples[0];
        return [
          key,
          '(outbox)',
          String(report.count),
          '-',
          s ? `${s.type} ${s.eventId} ${s.destination}: ${s.reason}` : '',
        ];
      } catch (err) {
        return [key, '(outbox)', 'error', '-', `${url}: ${err instanceof Error ? err.message : String(err)}`];
      }
    }),
  );
  return { rows: rows.filter((r): r is string[] => r !== undefined), unknown };
}

const [command = 'list', target] = positionals;
if (command === 'list') {
  const [report, outboxes] = await Promise.all([listDeadLetters(resources, { sqs }), outboxRows()]);
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
  rows.push(...outboxes.rows);
  process.stdout.write(`${table(rows)}\n`);
  if (outboxes.unknown.length > 0)
    process.stdout.write(
      `outbox dead letters of ${outboxes.unknown.join(', ')} not shown: pass --service-url <service>=<url>\n`,
    );
} else if (command === 'redrive' && target !== undefined && isOutboxTarget(target)) {
  const service = target.slice(0, -'/outbox'.length);
  const url = serviceUrls().get(service);
  if (!url) fail(`where does ${service} run? pass --service-url ${service}=<url> (or start \`make dev\`)`);
  const result = await outboxCall<{ redriven: number }>(url, '/redrive', 'POST').catch((err: unknown) =>
    fail(`${service} at ${url}: ${err instanceof Error ? err.message : String(err)}`),
  );
  if (!result) fail(`${service} at ${url} has no outbox (it does not call useOutbox)`);
  process.stdout.write(`${service} outbox dead letters -> relay: re-driven ${result.redriven}\n`);
} else if (command === 'redrive') {
  if (!target) fail('which queue? `make redrive QUEUE=<queue name, service/key or service/outbox>`');
  const q = resources.queues.find((r) => r.name === target || `${r.service}/${r.key}` === target);
  if (!q)
    fail(
      `unknown queue "${target}"; known: ${resources.queues.map((r) => `${r.service}/${r.key}`).join(', ')}`,
    );
  const max = values.max ? Number(values.max) : undefined;
  const result = await redrive({ sqs, dlqUrl: q.dlq.url, sourceQueueUrl: q.url, ...(max ? { max } : {}) });
  const notDeleted =
    result.notDeleted > 0 ? `, not deleted ${result.notDeleted} (sent again but still in the DLQ)` : '';
  process.stdout.write(
    `${q.dlq.name} -> ${q.name}: moved ${result.moved}, failed ${result.failed}${notDeleted}\n`,
  );
  if (result.failed > 0 || result.notDeleted > 0) process.exitCode = 1;
} else {
  fail(`unknown command "${command}": use list or redrive <queue>`);
}
sqs.destroy();
