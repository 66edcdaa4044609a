/**
 * `make dev`: runs the system declared in a system module (default `services/system.ts`) locally until
 * Ctrl-C or SIGTERM.
 *
 *   node --conditions=flotilla-source --import tsx platform/dev/src/cli.ts [--system <module>] [--entry <pattern>]
 *
 * `--entry` is each service's entry point with `{name}` for the service name
 * (default `services/{name}/src/main.ts`).
 *
 * Environment: GATEWAY_PORT (8080), FLOTILLA_EMULATOR_PORT (4566), FLOTILLA_TRACE_SINK_PORT (4318),
 * FLOTILLA_RAW_LOGS=1 (raw JSON log lines), LOG_LEVEL (services' log level, default info),
 * FLOTILLA_DEV_POSTGRES_URL (a PostgreSQL server for the services' databases, one `<system>_<service>`
 * database each, instead of embedded PGlite).
 */
import { resolve, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isSystem, type RuntimeEnvironment, type System } from '@flotilla/model';
import { startStack, type Stack } from './stack.js';

async function loadSystem(path: string): Promise<System> {
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const found = isSystem(mod.default) ? mod.default : Object.values(mod).find(isSystem);
  if (!found)
    throw new Error(
      `${path} exports no system: export the result of defineSystem(...) as its default export.`,
    );
  return found;
}

function table(stack: Stack, rootDir: string, seconds: number): string {
  const rows: string[][] = [['SERVICE', 'URL', 'PID', 'ROUTES / DATA']];
  for (const s of stack.services()) {
    rows.push([
      s.name,
      s.url,
      String(s.pid ?? '-'),
      [s.routes.join(' ') || '(internal)', s.dataDir ? relative(rootDir, s.dataDir) : (s.databaseUrl ?? '')]
        .filter(Boolean)
        .join('  '),
    ]);
  }
  rows.push(['gateway', stack.gatewayUrl, String(process.pid), 'the public paths above']);
  rows.push([
    'api docs',
    `${stack.gatewayUrl}/docs/`,
    String(process.pid),
    `OpenAPI at ${stack.gatewayUrl}/openapi.json`,
  ]);
  rows.push([
    'traces',
    `${stack.traceSinkUrl}/traces`,
    String(process.pid),
    'OTLP/HTTP at ' + stack.traceSinkUrl,
  ]);
  const m = stack.messaging;
  rows.push([
    'sqs/sns',
    stack.emulatorEndpoint,
    String(process.pid),
    `${m.topics} topics, ${m.queues} queues (+ DLQs), ${m.subscriptions} subscriptions`,
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map(
    (r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '),
  );
  return [
    '',
    `Flotilla local stack is ready in ${seconds.toFixed(1)} s · every process runs Node ${process.version} (${process.execPath})`,
    ...lines,
    `  stack file: ${relative(rootDir, stack.stackFile)} · Ctrl-C stops everything · make dev-reset wipes local data`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      system: { type: 'string', default: 'services/system.ts' },
      entry: { type: 'string' },
    },
  });
  const rootDir = process.cwd();
  const systemPath = resolve(rootDir, values.system!);
  const system = await loadSystem(systemPath);
  const started = Date.now();
  const logLevel = process.env.LOG_LEVEL as RuntimeEnvironment['logLevel'] | undefined;
  const postgresUrl = process.env.FLOTILLA_DEV_POSTGRES_URL || undefined;

  // Filled once started; the signal handler reads it (a signal may arrive while starting).
  const running: { stack?: Stack } = {};
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.stderr.write(`\n${signal} again: exiting without waiting for services to stop\n`);
      process.exit(130);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: stopping services…\n`);
    // Still starting: main() stops what has started as soon as startStack returns.
    if (!running.stack) return;
    running.stack.stop().then(
      () => {
        process.stdout.write('stopped\n');
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`stopping failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const entry = values.entry;
  const stack = await startStack({
    system,
    rootDir,
    // Without --entry, startStack's default: services/<name>/src/main.ts.
    ...(entry ? { serviceEntry: (name: string) => entry.replaceAll('{name}', name) } : {}),
    ...(logLevel ? { logLevel } : {}),
    ...(postgresUrl ? { postgres: { url: postgresUrl } } : {}),
  });
  running.stack = stack;
  if (stopping) {
    await stack.stop();
    process.stdout.write('stopped\n');
    process.exit(0);
  }
  process.stdout.write(table(stack, rootDir, (Date.now() - started) / 1000) + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`\nmake dev: ${err.message}\n`);
  process.exit(1);
});
