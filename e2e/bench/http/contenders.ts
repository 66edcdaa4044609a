/**
 * Every server of the HTTP suite (and its profiler): what it is, how it is started, and which variables it
 * gets. The kit and the observable peers are configured alike: the prod environment's sampler (parent-based,
 * 10% of new traces, read from charts-ts), traces and metrics exported over OTLP/HTTP protobuf to a local
 * sink, one JSON log line per request with its trace id, to a file.
 */
import { join, resolve } from 'node:path';
import { isMessage, repoRoot, spawnTs, type Child } from '../lib/child.js';
import { startOtlpSink, type OtlpSink } from '../lib/otlp-sink.js';
import { httpKitEnv } from '../lib/system.js';
import { SAMPLE_NEW_ITEM, type ListeningMessage } from './item.js';
import type { LoadSpec } from './load.js';

/** The two routes (see ./item.ts). */
export type RouteKey = 'get' | 'post';
export const ROUTES: Record<RouteKey, string> = { get: 'GET /api/items/:id', post: 'POST /api/items' };

/**
 * The load of one route of a server on `port`: saturated over `connections`, or at `rate` req/s (after
 * `settleSeconds` at that rate that do not count, see {@link LoadSpec.settleSeconds}).
 */
export function routeLoad(
  port: number,
  route: RouteKey,
  load: Pick<LoadSpec, 'connections' | 'seconds' | 'rate' | 'settleSeconds'>,
): LoadSpec {
  const base = {
    connections: load.connections,
    seconds: load.seconds,
    // Settling is part of a paced run only; a saturated run has no rate to settle at.
    ...(load.rate === undefined ? {} : { rate: load.rate, settleSeconds: load.settleSeconds }),
  };
  return route === 'get'
    ? { ...base, url: `http://127.0.0.1:${port}/api/items/7` }
    : { ...base, url: `http://127.0.0.1:${port}/api/items`, method: 'POST', json: SAMPLE_NEW_ITEM };
}

export interface Contender {
  /** Short key (the profiler's argument). */
  readonly key: string;
  /** Its name in rows and charts. */
  readonly name: string;
  /**
   * `kit`: a configuration of the Flotilla kit; `baseline`: a server without observability; `peer`: an
   * observable stack a team would otherwise pick (the "fastest observable peer" target compares with these).
   */
  readonly kind: 'kit' | 'baseline' | 'peer';
  /** Entry, relative to this directory. */
  readonly entry: string;
  /** node arguments before the entry (preloads). */
  readonly nodeArgs: readonly string[];
  /** Its variables, given the OTLP endpoint it exports to and extra variables for every contender. */
  env(otlpEndpoint: string, extra: Record<string, string>): Promise<Record<string, string>>;
  /** Writes a log line per request (checked for trace ids). */
  readonly logs: boolean;
  readonly routes: readonly RouteKey[];
}

const here = new URL('.', import.meta.url).pathname;
const KIT_PRELOAD = ['--import', '@flotilla/runtime/telemetry'];
const ESM_HOOK = ['--import', join(here, 'peers/esm-hook.ts')];
const BOTH: readonly RouteKey[] = ['get', 'post'];

/**
 * A peer's variables: the OpenTelemetry ones the kit gets from envFor (service name, endpoint, protocol,
 * sampler and its ratio, resource attributes), read by the Node SDK as the standard says. Logs go to
 * stdout through pino, as the kit's do, so the SDK starts no OTLP log exporter (OTEL_LOGS_EXPORTER=none).
 */
async function peerEnv(
  otlpEndpoint: string,
  extra: Record<string, string>,
  own: Record<string, string> = {},
): Promise<Record<string, string>> {
  const kit = await httpKitEnv(otlpEndpoint);
  const otel = Object.fromEntries(Object.entries(kit).filter(([k]) => k.startsWith('OTEL_')));
  return { ...otel, OTEL_LOGS_EXPORTER: 'none', ...own, ...extra };
}

const kitEnv =
  (variant: Record<string, string> = {}) =>
  (otlpEndpoint: string, extra: Record<string, string>) =>
    httpKitEnv(otlpEndpoint, { ...variant, ...extra });

/** The kit as a service runs it, and the two baselines without observability. */
export const KIT: Contender = {
  key: 'kit',
  name: 'Flotilla kit',
  kind: 'kit',
  entry: 'kit-server.ts',
  nodeArgs: KIT_PRELOAD,
  env: kitEnv(),
  logs: true,
  routes: BOTH,
};
export const BARE: Contender = {
  key: 'bare',
  name: 'bare Express 5',
  kind: 'baseline',
  entry: 'bare-server.ts',
  nodeArgs: [],
  env: async () => ({}),
  logs: false,
  routes: BOTH,
};

export const CONTENDERS: readonly Contender[] = [
  BARE,
  KIT,
  {
    key: 'node',
    name: 'node:http',
    kind: 'baseline',
    entry: 'node-server.ts',
    nodeArgs: [],
    env: async () => ({}),
    logs: false,
    routes: BOTH,
  },
  {
    key: 'bare-on-kit-server',
    name: "bare Express 5 on the kit's server",
    kind: 'baseline',
    entry: 'bare-server.ts',
    nodeArgs: [],
    env: async () => ({ BARE_ON_KIT_SERVER: '1' }),
    logs: false,
    routes: BOTH,
  },
  {
    key: 'fastify',
    name: 'Fastify 5 + pino + @fastify/otel',
    kind: 'peer',
    entry: 'peers/fastify-server.ts',
    nodeArgs: [...ESM_HOOK, '--import', join(here, 'peers/fastify-otel.preload.ts')],
    env: (endpoint, extra) => peerEnv(endpoint, extra),
    logs: true,
    routes: BOTH,
  },
  {
    key: 'express-sdk',
    name: 'Express 5 + pino-http + sdk-node (http, express)',
    kind: 'peer',
    entry: 'peers/express-server.ts',
    nodeArgs: [...ESM_HOOK, '--import', join(here, 'peers/sdk-node.preload.ts')],
    env: (endpoint, extra) => peerEnv(endpoint, extra, { TRACE_IDS: 'mixin' }),
    logs: true,
    routes: BOTH,
  },
  {
    key: 'express-auto',
    name: 'Express 5 + auto-instrumentations-node',
    kind: 'peer',
    entry: 'peers/express-server.ts',
    nodeArgs: [...ESM_HOOK, '--import', '@opentelemetry/auto-instrumentations-node/register'],
    // Every resource detector but the cloud ones: those query metadata endpoints that are not on this
    // machine (and must not be: the benchmarks talk to 127.0.0.1 only).
    env: (endpoint, extra) =>
      peerEnv(endpoint, extra, {
        OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance,container',
      }),
    logs: true,
    routes: BOTH,
  },
  {
    key: 'kit-sampled',
    name: 'Flotilla kit, every trace sampled (as make dev)',
    kind: 'kit',
    entry: 'kit-server.ts',
    nodeArgs: KIT_PRELOAD,
    env: kitEnv({ OTEL_TRACES_SAMPLER_ARG: '1' }),
    logs: true,
    routes: ['get'],
  },
];

/**
 * Kit variants with one component switched off through its standard variable (BENCH_HTTP_BREAKDOWN=1), to
 * attribute the cost when a target is missed. No runtime code changes for a measurement.
 */
export const BREAKDOWN: readonly Contender[] = (
  [
    ['logs-off', 'kit, logs off (LOG_LEVEL=silent)', { LOG_LEVEL: 'silent' }],
    ['no-export', 'kit, no trace export (OTEL_TRACES_EXPORTER=none)', { OTEL_TRACES_EXPORTER: 'none' }],
    [
      'not-sampled',
      'kit, not sampled (OTEL_TRACES_SAMPLER=always_off)',
      { OTEL_TRACES_SAMPLER: 'always_off' },
    ],
    [
      'not-sampled-logs-off',
      'kit, not sampled, logs off',
      { OTEL_TRACES_SAMPLER: 'always_off', LOG_LEVEL: 'silent' },
    ],
    ['no-sdk', 'kit, no OpenTelemetry (OTEL_SDK_DISABLED=true)', { OTEL_SDK_DISABLED: 'true' }],
    [
      'no-sdk-logs-off',
      'kit, no OpenTelemetry, logs off',
      { OTEL_SDK_DISABLED: 'true', LOG_LEVEL: 'silent' },
    ],
  ] as const
).map(([key, name, variant]): Contender => ({
  ...KIT,
  key,
  name,
  env: kitEnv(variant),
  logs: !('LOG_LEVEL' in variant),
  routes: ['get'],
}));

export function contender(key: string): Contender {
  const found = [...CONTENDERS, ...BREAKDOWN].find((c) => c.key === key);
  if (!found)
    throw new Error(
      `no HTTP contender "${key}"; one of ${[...CONTENDERS, ...BREAKDOWN].map((c) => c.key).join(', ')}`,
    );
  return found;
}

/** A contender's server, listening, with the OTLP sink it exports to. */
export interface RunningContender {
  readonly contender: Contender;
  readonly child: Child;
  readonly sink: OtlpSink;
  readonly port: number;
  /** Stops the server, then closes its sink. */
  stop(): Promise<void>;
}

/** Options of {@link startContender}. */
export interface StartContenderOptions {
  /** Receives the server's stdout: its log lines. */
  readonly stdoutFile: string;
  /** Variables on top of the contender's own. @default {} */
  readonly extra?: Record<string, string>;
  /** node arguments before the contender's own (e.g. `--trace-gc-nvp`). @default [] */
  readonly nodeArgs?: readonly string[];
  /** A program that runs the server's node (see SpawnOptions.wrapper). @default - none */
  readonly wrapper?: readonly string[];
  /** How long the server may take to listen. @default 60000 */
  readonly startTimeoutMs?: number;
  /**
   * The checkout whose server entry, compiled runtime and telemetry preload run (ab.ts's other side).
   * @default this checkout
   */
  readonly root?: string;
}

/**
 * Starts a contender's server as the suite does, with the runtime compiled (`dist/`, run `npx tsc -b`
 * first), as a container image runs it, and an OTLP sink of its own; resolves once it listens. A server
 * that fails to start is stopped and its sink closed, so the caller has nothing left to clean up.
 */
export async function startContender(
  c: Contender,
  options: StartContenderOptions,
): Promise<RunningContender> {
  const root = resolve(options.root ?? repoRoot);
  // Another checkout's preload by path; this checkout's through the package, as images load it.
  const own = options.root === undefined ? c.nodeArgs : c.nodeArgs.map((a) => preloadIn(root, a));
  const sink = await startOtlpSink();
  const child = spawnTs(join(root, 'e2e/bench/http', c.entry), {
    env: await c.env(sink.endpoint, options.extra ?? {}),
    nodeArgs: [...(options.nodeArgs ?? []), ...own],
    stdoutFile: options.stdoutFile,
    sources: false,
    wrapper: options.wrapper,
  });
  const stop = async () => {
    await child.stop();
    await sink.close();
  };
  try {
    const { port } = await child.message(isMessage<ListeningMessage>('listening'), options.startTimeoutMs);
    return { contender: c, child, sink, port, stop };
  } catch (err) {
    await stop();
    throw new Error(`${c.name}: ${(err as Error).message}`, { cause: err });
  }
}

/** The kit's telemetry preload taken from `root`'s compiled runtime (not this checkout's package). */
function preloadIn(root: string, arg: string): string {
  return arg === '@flotilla/runtime/telemetry'
    ? join(root, 'platform/runtime/dist/src/telemetry/register.js')
    : arg;
}
