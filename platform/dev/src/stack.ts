/**
 * The local stack behind `make dev`: the SQS/SNS emulator with every topic and queue of the model,
 * one embedded database and one Node process per service (with exactly `envFor`'s variables), the
 * gateway, and the trace sink.
 */
import { access, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import {
  ENV,
  HEALTH_PATHS,
  envFor,
  portOf,
  shutdownTiming,
  type RuntimeEnvironment,
  type System,
} from '@flotilla/model';
import { publicDocumentTitle } from '@flotilla/runtime';
import { PGLITE_NODE_FLAGS } from '@flotilla/runtime/pglite-settings';
import { defaultPgliteTemplateDir, ensurePgliteTemplate } from '@flotilla/runtime/pglite-template';
import {
  databaseSecrets,
  ensureEmbeddedDatabases,
  ensureServerDatabases,
  redactUrl,
  resolveEnv,
  serverDatabases,
  type PostgresServerOptions,
} from './databases.js';
import { startEmulator, type Emulator } from './emulator.js';
import { localEnvironment } from './environment.js';
import { gatewayRoutes, startGateway, type Gateway } from './gateway.js';
import { ServiceInstances, type InstanceEvent, type RunningInstance } from './instances.js';
import { formatLogLine, prefix } from './logs.js';
import { freePorts, waitUntilReady } from './ports.js';
import { provisionMessaging, type ProvisionReport } from './provision.js';
import { removeStackFile, writeStackFile, type StackFile } from './stack-file.js';
import type { ProcessState, RestartPolicy } from './supervisor.js';
import { startTraceSink, type TraceSink } from './trace-sink.js';

export interface StackOptions {
  /** The system to run (e.g. `shop` from `services/system.ts`). */
  readonly system: System;
  /** Repository root: services start here, and relative paths are resolved from it. @default process.cwd() */
  readonly rootDir?: string;
  /** Local state: databases under `data/`, `stack.json`. @default `<rootDir>/.dev` */
  readonly stateDir?: string;
  /** SQS/SNS emulator port; 0 picks a free one. @default FLOTILLA_EMULATOR_PORT, else 4566 */
  readonly emulatorPort?: number;
  /** Gateway port; 0 picks a free one. @default GATEWAY_PORT, else 8080 */
  readonly gatewayPort?: number;
  /** Trace sink (OTLP/HTTP) port; 0 picks a free one. @default FLOTILLA_TRACE_SINK_PORT, else 4318 */
  readonly traceSinkPort?: number;
  /**
   * Where the services export traces and metrics (OTLP/HTTP base URL), e.g. an OpenTelemetry Collector
   * under test; the trace sink still runs, but receives nothing.
   * @default - the stack's trace sink
   */
  readonly otlpEndpoint?: string;
  /**
   * Service ports: the model's, a free port each (`'ephemeral'`, for tests), or explicit overrides.
   * @default 'model'
   */
  readonly servicePorts?: 'model' | 'ephemeral' | Readonly<Record<string, number>>;
  /**
   * The TypeScript (or JavaScript) entry point of a service, absolute or relative to `rootDir`. It is run as
   * `node <nodeFlags> [<PGlite flags>] --conditions=flotilla-source --import tsx [--import <preload>...] <entry>`,
   * with the runtime's `PGLITE_NODE_FLAGS` for a service with an embedded database (they keep PGlite's memory down).
   * @default (name) => `services/<name>/src/main.ts`
   */
  readonly serviceEntry?: (service: string) => string;
  /**
   * Modules imported before each service's entry. The runtime's telemetry preload must run before the
   * service imports express, pg or the AWS SDK, or their instrumentation cannot patch them (ESM); the
   * Dockerfiles do the same with `node --import @flotilla/runtime/telemetry`.
   * @default ['@flotilla/runtime/telemetry']
   */
  readonly preload?: readonly string[];
  /**
   * Node.js flags of every service process, before the runtime's `PGLITE_NODE_FLAGS` (services with an
   * embedded database) and the loader. The default caps V8's young generation (each of its two semi-spaces)
   * at 4 MB instead of 16 MB: the stack runs every service on one machine, and the cap keeps ~50 MiB less
   * resident per idle service for a few more minor garbage collections under load (issue 16).
   * @default ['--max-semi-space-size=4']
   * @see https://nodejs.org/api/cli.html#--max-semi-space-sizesize-in-mib
   */
  readonly nodeFlags?: readonly string[];
  /** PGlite template data directory. @default FLOTILLA_PGLITE_TEMPLATE_DIR, else `node_modules/.cache/flotilla/pglite-template-<version>` */
  readonly pgliteTemplateDir?: string;
  /**
   * Puts every service's database on this PostgreSQL server instead of embedded PGlite, as the clusters do:
   * each service gets its own database there as `DATABASE_URL`. Needed to run two processes of a service
   * ({@link Stack.startInstance}), which share their database.
   * @default - embedded PGlite under `<stateDir>/data`
   */
  readonly postgres?: PostgresServerOptions;
  /**
   * Graceful shutdown timing of the services (`SHUTDOWN_DRAIN_MS`, `SHUTDOWN_TIMEOUT_MS`).
   * @default - local's: { drainSeconds: 0, timeoutSeconds: 10 }, so Ctrl-C is quick
   */
  readonly shutdown?: RuntimeEnvironment['shutdown'];
  /**
   * How often the gateway probes each process's readiness; a process gets requests while it passes.
   * @default 1000
   */
  readonly gatewayReadinessIntervalMs?: number;
  readonly restart?: RestartPolicy;
  /** How long every service has to answer its readiness probe. @default 60000 */
  readonly readyTimeoutMs?: number;
  /** Where stack messages, service log lines and traces go, one line per call. @default stdout */
  readonly output?: (line: string) => void;
  /**
   * Every line a service's processes write, as written (besides `output`), e.g. for tests reading logs;
   * `process` is the instance's label (`orders`, `orders#2`, see {@link RunningInstance.label}).
   */
  readonly onServiceLine?: (service: string, line: string, process: string) => void;
  /** Show services' JSON log lines as they are. @default FLOTILLA_RAW_LOGS === '1' */
  readonly rawLogs?: boolean;
  /** ANSI colours in output. @default stdout is a terminal */
  readonly color?: boolean;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default 'info' */
  readonly logLevel?: RuntimeEnvironment['logLevel'];
  /** A trace is printed after no span of it arrived for this long. @default 1500 */
  readonly traceQuietMs?: number;
  /**
   * Variables of this process that services inherit besides `envFor`'s (a process needs a PATH).
   * @default ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']
   */
  readonly inheritEnv?: readonly string[];
}

/**
 * Every port picked free (services, gateway, emulator, trace sink): a stack beside `make dev` and other
 * stacks, for tests and tools (`startStack({ system, ...EPHEMERAL_PORTS })`).
 */
export const EPHEMERAL_PORTS = {
  servicePorts: 'ephemeral',
  gatewayPort: 0,
  emulatorPort: 0,
  traceSinkPort: 0,
} as const satisfies Partial<StackOptions>;

/** A service of the running stack, as its oldest live process (see {@link Stack.instances} for all). */
export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Current process id (changes on restart); undefined while the process is down. */
  readonly pid: number | undefined;
  readonly state: ProcessState;
  /** Path prefixes the gateway routes to it. */
  readonly routes: readonly string[];
  /** Its embedded database directory, when it has one. */
  readonly dataDir?: string;
  /** Its database on the PostgreSQL server (password hidden), when the stack runs on one. */
  readonly databaseUrl?: string;
}

export type { RunningInstance } from './instances.js';

/** The faults the stack can inject into its SQS/SNS emulator (see {@link Emulator}). */
export type EmulatorFaults = Pick<
  Emulator,
  'disconnect' | 'reconnect' | 'duplicateDeliveries' | 'duplicatedMessages' | 'pendingDuplicates'
>;

/** The running local stack. */
export interface Stack {
  readonly gatewayUrl: string;
  readonly emulatorEndpoint: string;
  /** OTLP/HTTP endpoint; the waterfall page is at `${traceSinkUrl}/traces`. */
  readonly traceSinkUrl: string;
  readonly stackFile: string;
  readonly environment: RuntimeEnvironment;
  readonly messaging: ProvisionReport;
  /** The services as they are now. */
  services(): readonly RunningService[];
  /** Every process of a service, oldest first. */
  instances(service: string): readonly RunningInstance[];
  /**
   * Starts one more process of `service`, on a free port and otherwise with the same variables, as a
   * rolling update starts a new pod: resolves once it is ready, and then the gateway spreads the service's
   * requests across both. Peers keep calling the service's own port (static discovery), so this is for
   * services that no peer calls. Refused for a service with an embedded database (one process at a time
   * can open it): start the stack on a PostgreSQL server (`postgres`) for that.
   */
  startInstance(service: string): Promise<RunningInstance>;
  /**
   * Stops one process of `service` for good, as a rolling update ends an old pod: out of the gateway's
   * rotation at once, then SIGTERM (SIGKILL after the shutdown timeout). Resolves when it has exited.
   */
  stopInstance(service: string, pid: number): Promise<void>;
  /** Faults to inject into the SQS/SNS emulator (an outage, duplicate deliveries). */
  readonly emulator: EmulatorFaults;
  /** Stops everything: SIGTERM to each service (SIGKILL after its shutdown timeout), then gateway, sink, emulator. */
  stop(): Promise<void>;
}

const DEFAULT_INHERIT = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
/** {@link StackOptions.nodeFlags}'s default: a 4 MB young generation semi-space (V8's default is 16 MB). */
export const DEFAULT_SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `${name}=${raw} is not a port number; set it to an integer from 0 to 65535, or unset it for ${fallback}.`,
    );
  }
  return port;
}

/** Starts the whole system locally and resolves when every service is ready. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { system } = options;
  const rootDir = resolve(options.rootDir ?? process.cwd());
  const stateDir = resolve(rootDir, options.stateDir ?? '.dev');
  const stackFilePath = join(stateDir, 'stack.json');
  const dataDir = join(stateDir, 'data');
  const output = options.output ?? ((line: string) => process.stdout.write(`${line}\n`));
  const color = options.color ?? process.stdout.isTTY === true;
  const rawLogs = options.rawLogs ?? process.env.FLOTILLA_RAW_LOGS === '1';
  const nameWidth = Math.max(9, ...system.services.map((s) => s.name.length)) + 1;
  const say = (who: string, text: string): void => output(`${prefix(who, { color, nameWidth })} ${text}`);
  const startedAt = Date.now();

  const entryOf = (name: string): string => {
    const entry = options.serviceEntry?.(name) ?? `services/${name}/src/main.ts`;
    return isAbsolute(entry) ? entry : join(rootDir, entry);
  };
  const missing: string[] = [];
  for (const s of system.services) {
    await access(entryOf(s.name)).catch(() =>
      missing.push(`${s.name}: ${relative(rootDir, entryOf(s.name))}`),
    );
  }
  if (missing.length) {
    throw new Error(
      `Cannot start the local stack: these services have no entry point:\n  ${missing.join('\n  ')}\n` +
        'Each service needs a src/main.ts that reads its configuration from the environment and starts its HTTP server.',
    );
  }

  await refuseSecondStack(stackFilePath);

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };

  try {
    const postgres = options.postgres;
    const templateDir = options.pgliteTemplateDir ?? defaultPgliteTemplateDir();
    const embedded = !postgres && system.services.some((s) => s.database);
    const templateReady = embedded
      ? ensurePgliteTemplate({
          dir: templateDir,
          onCreated: ({ ms }) =>
            say('databases', `initialised the PGlite template once (${(ms / 1000).toFixed(1)} s)`),
        })
      : Promise.resolve();
    templateReady.catch(() => undefined); // awaited below; do not let an early failure go unhandled

    const region = options.region ?? 'us-east-1';
    const ports = await resolveServicePorts(system, options.servicePorts ?? 'model');
    const emulator: Emulator = await startEmulator({
      port: options.emulatorPort ?? envPort('FLOTILLA_EMULATOR_PORT', 4566),
      region,
    });
    cleanups.push(() => emulator.stop());
    const sink: TraceSink = await startTraceSink({
      port: options.traceSinkPort ?? envPort('FLOTILLA_TRACE_SINK_PORT', 4318),
      print: (lines) => lines.forEach((l, i) => say(i === 0 ? 'traces' : '', l)),
      ...(options.traceQuietMs !== undefined ? { quietMs: options.traceQuietMs } : {}),
    });
    cleanups.push(() => sink.stop());

    const env = localEnvironment({
      messagingEndpoint: emulator.endpoint,
      otlpEndpoint: options.otlpEndpoint ?? sink.url,
      dataDir,
      region,
      databases: postgres ? 'server' : 'embedded',
      ...(ports ? { ports } : {}),
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      ...(options.shutdown ? { shutdown: options.shutdown } : {}),
    });
    const messaging = await provisionMessaging(system, env);

    const gateway: Gateway = await startGateway({
      routes: gatewayRoutes(system, env),
      port: options.gatewayPort ?? envPort('GATEWAY_PORT', 8080),
      docs: { title: publicDocumentTitle(system.name) },
      ...(options.gatewayReadinessIntervalMs !== undefined
        ? { readinessIntervalMs: options.gatewayReadinessIntervalMs }
        : {}),
    });
    cleanups.push(() => gateway.stop());

    const withDatabase = system.services.filter((s) => s.database).map((s) => s.name);
    const onServer = postgres ? serverDatabases(postgres, system.name, withDatabase) : [];
    if (postgres)
      await ensureServerDatabases(
        postgres.url,
        onServer.map((d) => d.name),
      );
    const secrets = databaseSecrets(onServer);
    await templateReady;
    const inherit = options.inheritEnv ?? DEFAULT_INHERIT;
    const base: Record<string, string> = {};
    for (const name of inherit) if (process.env[name] !== undefined) base[name] = process.env[name]!;

    const services = system.services.map((s) => {
      const vars = resolveEnv(s.name, envFor(system, s.name, env), secrets);
      const port = portOf(system, s.name, env);
      const server = onServer.find((d) => d.service === s.name);
      return {
        name: s.name,
        port,
        routes: s.routes,
        vars,
        dataDir: vars[ENV.databaseDir],
        databaseUrl: server && redactUrl(server.url),
      };
    });
    // A new database is a copy of the template; an existing one is kept, so data survives a restart.
    await ensureEmbeddedDatabases(
      services.flatMap((s) => (s.dataDir ? [s.dataDir] : [])),
      templateDir,
    );

    const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
    const graceMs = shutdownTiming(env).timeoutSeconds * 1000 + 2000;
    let stopping = false;
    const procs = new Map<string, ServiceInstances>();
    const instancesOf = (name: string): ServiceInstances => {
      const found = procs.get(name);
      if (!found)
        throw new Error(`No service ${name} in system ${system.name}: ${[...procs.keys()].join(', ')}.`);
      return found;
    };
    /** The services as they are now: for `Stack.services()` and stack.json. */
    const running = (): RunningService[] =>
      services.map((s) => {
        const p = procs.get(s.name)?.primary();
        return {
          name: s.name,
          url: p?.url ?? `http://127.0.0.1:${s.port}`,
          port: p?.port ?? s.port,
          pid: p?.pid,
          state: p?.state ?? 'stopped',
          routes: s.routes,
          ...(s.dataDir ? { dataDir: s.dataDir } : {}),
          ...(s.databaseUrl ? { databaseUrl: s.databaseUrl } : {}),
        };
      });
    const fileContent = (): StackFile => ({
      gatewayUrl: gateway.url,
      emulatorEndpoint: emulator.endpoint,
      traceSinkUrl: sink.url,
      pid: process.pid,
      startedAt: new Date(startedAt).toISOString(),
      services: Object.fromEntries(
        running().map(({ name, url, port, pid, state }) => [
          name,
          { url, port, ...(pid !== undefined ? { pid } : {}), state },
        ]),
      ),
    });
    // Writes are chained so an older snapshot never overwrites a newer one.
    let writing = Promise.resolve();
    const saveStackFile = (): Promise<void> => {
      writing = writing
        .then(() => (stopping ? undefined : writeStackFile(stackFilePath, fileContent())))
        .catch(() => undefined);
      return writing;
    };

    const onEvent = (label: string, event: InstanceEvent, instance: RunningInstance): void => {
      switch (event.kind) {
        case 'started':
          if (event.attempt > 1) say(label, `restarted (pid ${event.pid}, attempt ${event.attempt})`);
          else if (label !== instance.service)
            say(label, `started (pid ${event.pid}, port ${instance.port})`);
          break;
        case 'ready':
          say(label, 'ready again');
          break;
        case 'crashed':
          say(
            label,
            `crashed (${event.signal ?? `exit code ${event.code}`}); restarting in ${(event.restartInMs / 1000).toFixed(1)} s`,
          );
          break;
        case 'gave-up':
          say(
            label,
            `crashed ${event.crashes} times in a row soon after starting (last: ${event.signal ?? `exit code ${event.code}`}). ` +
              `NOT restarting it again. Fix the error in its log lines above, then restart make dev.`,
          );
          break;
        case 'stopped':
          break;
      }
      void saveStackFile();
    };

    const preload = options.preload ?? ['@flotilla/runtime/telemetry'];
    const nodeFlags = options.nodeFlags ?? DEFAULT_SERVICE_NODE_FLAGS;
    for (const s of services) {
      procs.set(
        s.name,
        new ServiceInstances({
          service: s.name,
          port: s.port,
          routed: s.routes.length > 0,
          ...(s.dataDir
            ? {
                singleProcessReason:
                  'its embedded PGlite database opens in one process at a time; start the stack on a ' +
                  'PostgreSQL server (the postgres option, FLOTILLA_DEV_POSTGRES_URL for make dev) to run two.',
              }
            : {}),
          command: process.execPath,
          args: [
            ...nodeFlags,
            ...(s.dataDir ? PGLITE_NODE_FLAGS : []),
            '--conditions=flotilla-source',
            '--import',
            'tsx',
            ...preload.flatMap((module) => ['--import', module]),
            entryOf(s.name),
          ],
          env: { ...base, ...s.vars },
          portVariable: ENV.port,
          cwd: rootDir,
          ...(options.restart ? { restart: options.restart } : {}),
          readyTimeoutMs,
          gateway,
          onLine: (label, line) => {
            options.onServiceLine?.(s.name, line, label);
            output(formatLogLine(label, line, { raw: rawLogs, color, nameWidth }));
          },
          onEvent,
          stopping: () => stopping,
        }),
      );
    }
    const stopProcesses = async (): Promise<void> => {
      stopping = true;
      await writing;
      await Promise.all([...procs.values()].map((p) => p.stopAll(graceMs)));
      await removeStackFile(stackFilePath);
    };
    cleanups.push(stopProcesses);
    for (const p of procs.values()) p.startFirst();
    await saveStackFile();

    await Promise.all(
      services.map((s) =>
        waitUntilReady(`http://127.0.0.1:${s.port}${HEALTH_PATHS.ready}`, {
          timeoutMs: readyTimeoutMs,
          abort: () =>
            procs.get(s.name)!.failed ? `${s.name} keeps crashing at start (see its log lines)` : undefined,
        }).catch((err: Error) => {
          throw new Error(`Service ${s.name} did not become ready: ${err.message}`);
        }),
      ),
    );
    // The gateway may have probed a service before it listened: let it see every one ready now.
    await gateway.probe();

    let stopped: Promise<void> | undefined;
    return {
      gatewayUrl: gateway.url,
      emulatorEndpoint: emulator.endpoint,
      traceSinkUrl: sink.url,
      stackFile: stackFilePath,
      environment: env,
      messaging,
      services: running,
      instances: (service) => instancesOf(service).list(),
      startInstance: async (service) => {
        const instance = await instancesOf(service).add();
        await saveStackFile();
        return instance;
      },
      stopInstance: async (service, pid) => {
        await instancesOf(service).stop(pid, graceMs);
        await saveStackFile();
      },
      emulator: {
        disconnect: () => emulator.disconnect(),
        reconnect: () => emulator.reconnect(),
        duplicateDeliveries: (settings) => emulator.duplicateDeliveries(settings),
        get duplicatedMessages() {
          return emulator.duplicatedMessages;
        },
        get pendingDuplicates() {
          return emulator.pendingDuplicates;
        },
      },
      stop: () => (stopped ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function resolveServicePorts(
  system: System,
  spec: NonNullable<StackOptions['servicePorts']>,
): Promise<Readonly<Record<string, number>> | undefined> {
  if (spec === 'model') return undefined;
  if (spec !== 'ephemeral') return spec;
  const ports = await freePorts(system.services.length);
  return Object.fromEntries(system.services.map((s, i) => [s.name, ports[i]!]));
}

/** Two stacks on one state directory would share databases: refuse, naming the running one. */
async function refuseSecondStack(stackFilePath: string): Promise<void> {
  let pid: number | undefined;
  try {
    pid = (JSON.parse(await readFile(stackFilePath, 'utf8')) as Partial<StackFile>).pid;
  } catch {
    return; // no stack file (or a broken one): nothing is running here
  }
  if (pid === undefined || pid === process.pid) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // left behind by a stack that did not stop cleanly
  }
  throw new Error(
    `Another local stack (pid ${pid}) is running on ${stackFilePath}. Stop it (Ctrl-C in its terminal, or kill ${pid}) before starting a new one.`,
  );
}
