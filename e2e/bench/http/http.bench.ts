/**
 * Issue 2, HTTP hot path: a kit service (tracing, logging and metrics on, as envFor configures a service,
 * with the prod environment's trace sampling of 10%; spans exported to a discarding OTLP sink; JSON logs to
 * a file; the runtime compiled, as a container image runs it) against bare Express 5, both serving
 * GET /api/items/:id. Each server and the load generator run in their own process; runs alternate bare,
 * kit, bare, kit... and the medians are compared. Targets: throughput >= 0.8x bare, p99 <= 1.5x bare.
 * A second kit samples every trace (what `make dev` and the dev environment do), for scale. A third bare
 * Express runs on the kit's `createHttpServer`: the kit's server fix makes Express itself cheaper,
 * so "kit vs bare" alone would hide what the observability costs; "kit vs bare on the kit's server" shows it.
 * Each round also runs the three at one fixed rate and compares their CPU per request there (see
 * EQUAL_LOAD_RPS for why saturated CPU per request is not a fair comparison on a shared 2-CPU machine).
 *
 * BENCH_HTTP_BREAKDOWN=1 adds kit variants with one component switched off through its standard variable
 * (logs, trace export, sampling, the whole SDK), to attribute the cost when a target is missed.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs } from '../lib/cpu.js';
import { isMessage, spawnTs, type Child } from '../lib/child.js';
import { startOtlpSink } from '../lib/otlp-sink.js';
import { report, type Row } from '../lib/result.js';
import { median, samples } from '../lib/stats.js';
import { httpKitEnv } from '../lib/system.js';
import type { ListeningMessage } from './item.js';
import type { LoadResult } from './load.js';

const here = new URL('.', import.meta.url).pathname;
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 20);
const BREAKDOWN = process.env.BENCH_HTTP_BREAKDOWN === '1';
/**
 * Rate of the equal-load runs. Saturated, a server slower than the load generator also pays for waking the
 * generator on every response (the two share this machine's CPUs), which inflates its CPU per request; at
 * one rate below every server's capacity, all servers pay alike, and CPU per request compares their work.
 */
const EQUAL_LOAD_RPS = Number(process.env.BENCH_HTTP_EQUAL_LOAD_RPS ?? 4000);
/** Equal-load runs that fell short of the rate: those servers were saturated after all (reported, not hidden). */
const belowRate: string[] = [];

interface Server {
  readonly name: string;
  readonly url: string;
  readonly child: Child;
  readonly logFile: string | undefined;
  readonly results: LoadResult[];
  /** Server CPU microseconds per request, per measured run. */
  readonly cpuUs: number[];
  /** The same at {@link EQUAL_LOAD_RPS}, per measured run. */
  readonly equalLoadCpuUs: number[];
}

async function startServer(
  name: string,
  entry: string,
  options: { env?: Record<string, string>; nodeArgs?: string[]; logFile?: string },
): Promise<Server> {
  const child = spawnTs(join(here, entry), {
    env: options.env ?? {},
    nodeArgs: options.nodeArgs ?? [],
    stdoutFile: options.logFile ?? '/dev/null',
    // The runtime compiled (dist/, built by `make bench`), as a container image runs it.
    sources: false,
  });
  const { port } = await child.message(isMessage<ListeningMessage>('listening'));
  return {
    name,
    url: `http://127.0.0.1:${port}/api/items/7`,
    child,
    logFile: options.logFile,
    results: [],
    cpuUs: [],
    equalLoadCpuUs: [],
  };
}

async function load(url: string, seconds: number, rps?: number): Promise<LoadResult> {
  const args = [url, String(CONNECTIONS), String(seconds), ...(rps === undefined ? [] : [String(rps)])];
  const gen = spawnTs(join(here, 'load.ts'), { args });
  const result = await gen.message(isMessage<LoadResult>('load-result'), (seconds + 30) * 1000);
  await gen.exited;
  if (result.failures > 0) throw new Error(`${url}: ${result.failures} failed requests under load`);
  return result;
}

const sink = await startOtlpSink();
const work = mkdtempSync(join(tmpdir(), 'flotilla-bench-http-'));
const servers: Server[] = [];
try {
  const preload = ['--import', '@flotilla/runtime/telemetry'];
  const bare = await startServer('bare', 'bare-server.ts', {});
  const kit = await startServer('kit', 'kit-server.ts', {
    env: await httpKitEnv(sink.endpoint),
    nodeArgs: preload,
    logFile: join(work, 'kit.log'),
  });
  const bareOnKitServer = await startServer('bare on kit server', 'bare-server.ts', {
    env: { BARE_ON_KIT_SERVER: '1' },
  });
  servers.push(bare, kit, bareOnKitServer);
  const variants: Array<[string, Record<string, string>]> = [
    ['kit, every trace sampled (OTEL_TRACES_SAMPLER_ARG=1, as make dev)', { OTEL_TRACES_SAMPLER_ARG: '1' }],
  ];
  if (BREAKDOWN)
    variants.push(
      // Ablations through standard variables only: no runtime code changes for a measurement.
      ['kit, logs off (LOG_LEVEL=silent)', { LOG_LEVEL: 'silent' }],
      ['kit, no trace export (OTEL_TRACES_EXPORTER=none)', { OTEL_TRACES_EXPORTER: 'none' }],
      ['kit, not sampled (OTEL_TRACES_SAMPLER=always_off)', { OTEL_TRACES_SAMPLER: 'always_off' }],
      ['kit, not sampled, logs off', { OTEL_TRACES_SAMPLER: 'always_off', LOG_LEVEL: 'silent' }],
      ['kit, no OpenTelemetry (OTEL_SDK_DISABLED=true)', { OTEL_SDK_DISABLED: 'true' }],
      ['kit, no OpenTelemetry, logs off', { OTEL_SDK_DISABLED: 'true', LOG_LEVEL: 'silent' }],
    );
  for (const [name, extra] of variants) {
    const logFile = join(work, `variant-${servers.length}.log`);
    servers.push(
      await startServer(name, 'kit-server.ts', {
        env: await httpKitEnv(sink.endpoint, extra),
        nodeArgs: preload,
        logFile,
      }),
    );
  }

  // Warm-up: JIT, connection pools and the span batch pipeline reach steady state before anything counts.
  for (const s of servers) await load(s.url, 2);
  /** Loads a server once and returns its CPU microseconds per request. */
  const measure = async (s: Server, rps?: number): Promise<[LoadResult, number | undefined]> => {
    const before = cpuMs(s.child.process.pid);
    const result = await load(s.url, SECONDS, rps);
    const after = cpuMs(s.child.process.pid);
    return [
      result,
      before === undefined || after === undefined ? undefined : ((after - before) * 1000) / result.total,
    ];
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of servers) {
      const [result, us] = await measure(s);
      s.results.push(result);
      if (us !== undefined) s.cpuUs.push(us);
    }
    for (const s of [bare, kit, bareOnKitServer]) {
      const [result, us] = await measure(s, EQUAL_LOAD_RPS);
      if (us !== undefined) s.equalLoadCpuUs.push(us);
      if (result.rps < 0.95 * EQUAL_LOAD_RPS) belowRate.push(`${s.name} ${Math.round(result.rps)} req/s`);
    }
  }

  const med = (s: Server, key: 'rps' | 'p99' | 'p50') => median(s.results.map((r) => r[key]));
  const cpu = (s: Server) => (s.cpuUs.length > 0 ? Math.round(median(s.cpuUs)) : NaN);
  const equalLoadCpu = (s: Server) =>
    s.equalLoadCpuUs.length > 0 ? Math.round(median(s.equalLoadCpuUs)) : NaN;
  const shortOfRate = belowRate.length > 0 ? `BELOW THE RATE: ${belowRate.join('; ')}; ` : '';
  const traces = sink.received.get('/v1/traces');
  const logLines = readFileSync(kit.logFile as string, 'utf8').split('\n');
  const requestLine = logLines.find((l) => l.includes('"msg":"request"'));
  const exported = `${traces?.requests ?? 0} trace exports (${Math.round((traces?.bytes ?? 0) / 1024)} KiB) at the sink`;
  const logged = `${Math.round(statSync(kit.logFile as string).size / 1024 / 1024)} MiB of logs, trace ids ${requestLine?.includes('"trace_id"') ? 'present' : 'MISSING'}`;
  const rows: Row[] = [
    {
      suite: 'http',
      name: 'kit vs bare Express: throughput',
      unit: 'req/s',
      baseline: med(bare, 'rps'),
      subject: med(kit, 'rps'),
      target: { kind: 'min-ratio', ratio: 0.8 },
      note: `${CONNECTIONS} connections, ${ROUNDS}x${SECONDS}s; bare ${samples(bare.results.map((r) => r.rps))}; kit ${samples(kit.results.map((r) => r.rps))}; ${exported}; ${logged}`,
    },
    {
      suite: 'http',
      name: 'kit vs bare Express: p99 latency',
      unit: 'ms',
      baseline: med(bare, 'p99'),
      subject: med(kit, 'p99'),
      target: { kind: 'max-ratio', ratio: 1.5 },
      note: `p50 bare ${med(bare, 'p50')} kit ${med(kit, 'p50')}; p99 bare ${samples(bare.results.map((r) => r.p99))}; kit ${samples(kit.results.map((r) => r.p99))}`,
    },
    {
      suite: 'http',
      name: 'kit vs bare Express: server CPU per request',
      unit: 'us',
      baseline: cpu(bare),
      subject: cpu(kit),
      target: { kind: 'info' },
      note: `steadier than req/s on a shared machine; bare ${samples(bare.cpuUs)}; kit ${samples(kit.cpuUs)}`,
    },
    {
      suite: 'http',
      name: `kit vs bare Express: server CPU per request at ${EQUAL_LOAD_RPS} req/s`,
      unit: 'us',
      baseline: equalLoadCpu(bare),
      subject: equalLoadCpu(kit),
      target: { kind: 'info' },
      note: `${shortOfRate}every server at the same rate, so none pays more for waking the load generator; bare ${samples(bare.equalLoadCpuUs)}; kit ${samples(kit.equalLoadCpuUs)}`,
    },
    {
      suite: 'http',
      name: `kit vs bare Express on the kit's server: server CPU per request at ${EQUAL_LOAD_RPS} req/s`,
      unit: 'us',
      baseline: equalLoadCpu(bareOnKitServer),
      subject: equalLoadCpu(kit),
      target: { kind: 'info' },
      note: `${shortOfRate}bare on kit server ${samples(bareOnKitServer.equalLoadCpuUs)}; kit ${samples(kit.equalLoadCpuUs)}`,
    },
    {
      suite: 'http',
      name: "kit vs bare Express on the kit's server: throughput",
      unit: 'req/s',
      baseline: med(bareOnKitServer, 'rps'),
      subject: med(kit, 'rps'),
      target: { kind: 'info' },
      note: `what tracing, logging and metrics cost, without the server fix that speeds up both (createHttpServer); bare on kit server ${samples(bareOnKitServer.results.map((r) => r.rps))}, CPU ${cpu(bareOnKitServer)} us/req`,
    },
    ...servers.slice(3).map((s): Row => ({
      suite: 'http',
      name: `${s.name}: throughput`,
      unit: 'req/s',
      baseline: med(bare, 'rps'),
      subject: med(s, 'rps'),
      target: { kind: 'info' },
      note: `p99 ${med(s, 'p99')} ms; CPU ${cpu(s)} us/req (bare ${cpu(bare)}, kit ${cpu(kit)}); ${samples(s.results.map((r) => r.rps))}`,
    })),
  ];
  report(rows);
} finally {
  await Promise.all(servers.map((s) => s.child.stop()));
  await sink.close();
  rmSync(work, { recursive: true, force: true });
}
