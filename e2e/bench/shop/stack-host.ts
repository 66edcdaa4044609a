/**
 * The shop's local stack in a process of its own, started as `make dev` starts it (platform/dev's cli.ts:
 * `startStack` on services/system.ts, this process run from sources through tsx), but on ephemeral ports,
 * with its state directory where the parent says and its services exporting telemetry where the parent
 * says. Like `make dev`'s process, this one hosts the SQS/SNS emulator, the gateway and the trace sink;
 * each service is a child process of its own.
 *
 *   stack-host.ts '<HostOptions as JSON>'
 *
 * Talks to the parent over IPC: `stack-ready` once every service is ready (with the pids, URLs and queues),
 * `stack-pids` on request (a restarted service has a new pid), and stops on `stack-stop`.
 */
import { createWriteStream } from 'node:fs';
import { startStack } from '@flotilla/dev';
import { messagingResources } from '@flotilla/model';
import { shop } from '../../../services/system.js';
import { isMessage, repoRoot, tellParent } from '../lib/child.js';

export interface HostOptions {
  /** The stack's state directory (`.dev` of `make dev`): databases and stack.json. */
  readonly stateDir: string;
  /** Where the services export traces and metrics (OTLP/HTTP). */
  readonly otlpEndpoint: string;
  /** Receives every line the stack and its services print. */
  readonly logFile: string;
  /** PGlite template directory. @default - the cached one, as `make dev` uses */
  readonly pgliteTemplateDir?: string;
}

export interface StackService {
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  /** Its embedded database directory, when it has one. */
  readonly dataDir?: string;
}

export interface StackReady {
  readonly type: 'stack-ready';
  /** How long `startStack` took, as `make dev` reports "ready in". */
  readonly startStackMs: number;
  readonly gatewayUrl: string;
  readonly emulatorEndpoint: string;
  readonly region: string;
  /** This process: emulator, gateway and trace sink. */
  readonly hostPid: number;
  readonly services: readonly StackService[];
  /** Every queue: its name (as in consumer spans), `service/key`, URL and dead-letter queue URL. */
  readonly queues: readonly { name: string; label: string; url: string; dlqUrl: string }[];
}

export interface StackPids {
  readonly type: 'stack-pids';
  readonly services: readonly StackService[];
}

const [optionsText] = process.argv.slice(2);
if (optionsText === undefined) throw new Error("usage: stack-host.ts '<HostOptions as JSON>'");
const options = JSON.parse(optionsText) as HostOptions;
const log = createWriteStream(options.logFile, { flags: 'a' });

const started = performance.now();
const stack = await startStack({
  system: shop,
  rootDir: repoRoot,
  stateDir: options.stateDir,
  servicePorts: 'ephemeral',
  gatewayPort: 0,
  emulatorPort: 0,
  traceSinkPort: 0,
  otlpEndpoint: options.otlpEndpoint,
  color: false,
  ...(options.pgliteTemplateDir ? { pgliteTemplateDir: options.pgliteTemplateDir } : {}),
  output: (line) => log.write(`${line}\n`),
});
const startStackMs = performance.now() - started;
const services = (): StackService[] =>
  stack.services().map((s) => ({
    name: s.name,
    url: s.url,
    pid: s.pid,
    ...(s.dataDir ? { dataDir: s.dataDir } : {}),
  }));

process.on('message', (m: unknown) => {
  if (isMessage<{ type: 'stack-pids' }>('stack-pids')(m)) {
    tellParent({ type: 'stack-pids', services: services() } satisfies StackPids);
  } else if (isMessage<{ type: 'stack-stop' }>('stack-stop')(m)) {
    void stack.stop().then(() => {
      tellParent({ type: 'stack-stopped' });
      log.end(() => process.exit(0));
    });
  }
});
// The parent gone (it failed, or was stopped): stop the services too, never leave them behind.
process.once('disconnect', () => void stack.stop().then(() => process.exit(0)));

tellParent({
  type: 'stack-ready',
  startStackMs,
  gatewayUrl: stack.gatewayUrl,
  emulatorEndpoint: stack.emulatorEndpoint,
  region: stack.environment.aws.region,
  hostPid: process.pid,
  services: services(),
  queues: messagingResources(shop, stack.environment).queues.map((q) => ({
    name: q.name,
    label: `${q.service}/${q.key}`,
    url: q.url,
    dlqUrl: q.dlq.url,
  })),
} satisfies StackReady);
