/**
 * Issues 2 and 16, HTTP: the Flotilla kit against bare Express 5, node:http and the observable stacks a
 * team would otherwise pick (Fastify 5 + pino + @fastify/otel; Express 5 + pino-http + sdk-node with the
 * http and express instrumentations; Express 5 + auto-instrumentations-node), all in one run, on
 * `GET /api/items/:id` and a validated JSON `POST /api/items` (./item.ts). Every observable contender
 * samples like the prod environment (parent-based, 10%), exports traces and metrics over OTLP to a sink of
 * its own, and writes one JSON log line per request with its trace id to a file (./contenders.ts).
 *
 * Each server and the load generator run in their own process. Per round, every server is loaded in turn
 * (so baselines and subjects alternate), saturated with 20 connections, then at one fixed rate for all to
 * compare CPU per request (see EQUAL_LOAD_RPS); the rows compare medians.
 * Targets (issue 16): the kit >= 0.5x bare Express throughput on GET and POST, >= 2x the fastest observable
 * peer, p99 <= 1.5x bare Express at the fixed rate (saturated, latency only restates throughput: reported).
 *
 * BENCH_HTTP_BREAKDOWN=1 adds kit variants with one component switched off through its standard variable
 * (logs, trace export, sampling, the whole SDK), to attribute the cost when a target is missed.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs } from '../lib/cpu.js';
import { knob, report, SMOKE, type Row } from '../lib/result.js';
import { median, samples } from '../lib/stats.js';
import {
  BARE,
  BREAKDOWN,
  CONTENDERS,
  KIT,
  ROUTES,
  routeLoad,
  startContender,
  type Contender,
  type RunningContender,
  type RouteKey,
} from './contenders.js';
import { startLoadGenerator } from './generator.js';
import type { LoadResult, LoadSpec } from './load.js';

const SECONDS = knob('BENCH_HTTP_SECONDS', 5, 1);
const ROUNDS = knob('BENCH_HTTP_ROUNDS', 3, 1);
const CONNECTIONS = knob('BENCH_HTTP_CONNECTIONS', 20);
const WARMUP_SECONDS = knob('BENCH_HTTP_WARMUP_SECONDS', 2, 0);
const BREAKDOWN_ON = process.env.BENCH_HTTP_BREAKDOWN === '1';
/**
 * Rate of the equal-load runs, the same for every server: 3000 req/s, the figure, below the capacity
 * of the slowest contender (auto-instrumentations, ~5000 req/s saturated here). Saturated, a server slower
 * than the load generator also pays for waking the generator on every response (the two share this
 * machine's CPUs), which inflates its CPU per request; at one rate below every server's capacity, all
 * servers pay alike, and CPU per request compares their work.
 */
const EQUAL_LOAD_RPS = knob('BENCH_HTTP_EQUAL_LOAD_RPS', 3000);
const EQUAL_LOAD_SECONDS = knob('BENCH_HTTP_EQUAL_LOAD_SECONDS', 4, 1);
/**
 * Seconds at the fixed rate before each equal-load run's counted ones, on the same connections, for every
 * server alike (LoadSpec.settleSeconds). Each run starts on new connections, on a server that was idle or
 * saturated a moment before; slow requests clustered in that first second for bare Express as for the kit
 * (../README.md, "what sets the p99"), and in a run of a few seconds that cluster alone can be 1% of the
 * requests. A service under steady traffic does not switch like that, so the p99 rows are the steady state.
 */
const EQUAL_LOAD_SETTLE_SECONDS = knob('BENCH_HTTP_EQUAL_LOAD_SETTLE_SECONDS', 1, 0);
/**
 * Metric export interval of every contender. Unset in a full run (the SDKs' default of 60 s, what a
 * service gets); the smoke sets 1 s so that its short run still sees every contender export metrics.
 */
const METRIC_INTERVAL = process.env.BENCH_HTTP_METRIC_INTERVAL_MS ?? (SMOKE ? '1000' : undefined);

interface Measured {
  readonly results: LoadResult[];
  /** Server CPU microseconds per request, per saturated run. */
  readonly cpuUs: number[];
  /** The runs at {@link EQUAL_LOAD_RPS}. */
  readonly equalLoad: LoadResult[];
  /** The same at {@link EQUAL_LOAD_RPS}, per run. */
  readonly equalLoadCpuUs: number[];
}

interface Server extends RunningContender {
  readonly logFile: string;
  readonly measured: Record<RouteKey, Measured>;
}

const work = mkdtempSync(join(tmpdir(), 'flotilla-bench-http-'));
const servers: Server[] = [];
/** Equal-load runs that fell short of the rate: those servers were saturated after all (reported, not hidden). */
const belowRate = new Map<string, number[]>();
const rateKey = (s: Server, route: RouteKey) => `${s.contender.key} ${route}`;

async function startServer(c: Contender, index: number): Promise<Server> {
  const logFile = join(work, `${index}-${c.key}.log`);
  const extra: Record<string, string> =
    METRIC_INTERVAL === undefined ? {} : { OTEL_METRIC_EXPORT_INTERVAL: METRIC_INTERVAL };
  const running = await startContender(c, { stdoutFile: logFile, extra });
  const empty = (): Measured => ({ results: [], cpuUs: [], equalLoad: [], equalLoadCpuUs: [] });
  return { ...running, logFile, measured: { get: empty(), post: empty() } };
}

function spec(s: Server, route: RouteKey, seconds: number, rate?: number): LoadSpec {
  return routeLoad(s.port, route, {
    connections: CONNECTIONS,
    seconds,
    rate,
    settleSeconds: EQUAL_LOAD_SETTLE_SECONDS,
  });
}

const generator = startLoadGenerator();
try {
  const chosen = [...CONTENDERS, ...(BREAKDOWN_ON ? BREAKDOWN : [])];
  // Started together (start-up is not measured), stopped together in `finally`.
  const started = await Promise.allSettled(chosen.map((c, i) => startServer(c, i)));
  for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const serving = (route: RouteKey) => servers.filter((s) => s.contender.routes.includes(route));

  /** Loads a server once and returns the result and its CPU microseconds per request. */
  const measure = async (s: Server, route: RouteKey, seconds: number, rate?: number) => {
    const before = cpuMs(s.child.process.pid);
    const result = await generator.run(spec(s, route, seconds, rate)).catch((err: Error) => {
      throw new Error(`${s.contender.name}: ${err.message}`);
    });
    const after = cpuMs(s.child.process.pid);
    const us =
      before === undefined || after === undefined ? undefined : ((after - before) * 1000) / result.total;
    return { result, us };
  };

  // Warm-up: JIT, connection pools and the span batch pipeline reach steady state before anything counts.
  if (WARMUP_SECONDS > 0)
    for (const route of ['get', 'post'] as const)
      for (const s of serving(route)) await measure(s, route, WARMUP_SECONDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const route of ['get', 'post'] as const) {
      for (const s of serving(route)) {
        const { result, us } = await measure(s, route, SECONDS);
        s.measured[route].results.push(result);
        if (us !== undefined) s.measured[route].cpuUs.push(us);
      }
      for (const s of serving(route)) {
        const { result, us } = await measure(s, route, EQUAL_LOAD_SECONDS, EQUAL_LOAD_RPS);
        s.measured[route].equalLoad.push(result);
        if (us !== undefined) s.measured[route].equalLoadCpuUs.push(us);
        if (result.rps < 0.95 * EQUAL_LOAD_RPS)
          belowRate.set(rateKey(s, route), [...(belowRate.get(rateKey(s, route)) ?? []), result.rps]);
      }
    }
  }
  const problems = servers.flatMap(unobserved);
  if (problems.length > 0) throw new Error(`observability missing: ${problems.join('; ')}`);
  report(rows());
} finally {
  await generator.stop();
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(work, { recursive: true, force: true });
}

function rows(): Row[] {
  const byKey = (key: string) => servers.find((s) => s.contender.key === key) as Server;
  const bare = byKey(BARE.key);
  const kit = byKey(KIT.key);
  const peers = servers.filter((s) => s.contender.kind === 'peer');
  const rps = (s: Server, r: RouteKey) => median(s.measured[r].results.map((x) => x.rps));
  /** The median over runs of a latency percentile: of the saturated runs, or of the fixed-rate ones. */
  const p = (s: Server, r: RouteKey, key: 'p50' | 'p99', runs: 'results' | 'equalLoad' = 'results') =>
    median(s.measured[r][runs].map((x) => x[key]));
  const cpu = (s: Server, r: RouteKey) => Math.round(median(s.measured[r].cpuUs));
  const equalCpu = (s: Server, r: RouteKey) => Math.round(median(s.measured[r].equalLoadCpuUs));
  /** The row's servers that fell short of the fixed rate (they were saturated after all). */
  const shortOfRate = (r: RouteKey, ...of: Server[]) => {
    const short = of.flatMap((s) => {
      const rates = belowRate.get(rateKey(s, r));
      return rates ? [`${s.contender.name} ${samples(rates)} req/s`] : [];
    });
    return short.length > 0 ? `BELOW THE RATE: ${short.join('; ')}; ` : '';
  };
  const runs =
    `${CONNECTIONS} connections, ${ROUNDS}x${SECONDS} s saturated, ${ROUNDS}x${EQUAL_LOAD_SECONDS} s at ` +
    `${EQUAL_LOAD_RPS} req/s (each after ${EQUAL_LOAD_SETTLE_SECONDS} s at the rate that does not count)`;
  const detail = (s: Server, r: RouteKey) => {
    const m = s.measured[r];
    const p99s = (runs: LoadResult[]) =>
      samples(
        runs.map((x) => x.p99),
        2,
      );
    return (
      `${s.contender.name}: ${samples(m.results.map((x) => x.rps))} req/s, p99 ${p99s(m.results)} ms, ` +
      `CPU ${samples(m.cpuUs)} us/req saturated; at ${EQUAL_LOAD_RPS} req/s p99 ${p99s(m.equalLoad)} ms, ` +
      `${samples(m.equalLoadCpuUs)} us/req; ${observed(s)}`
    );
  };

  const out: Row[] = [];
  for (const r of ['get', 'post'] as const) {
    const route = ROUTES[r];
    const fastest = peers
      .filter((s) => s.contender.routes.includes(r))
      .reduce((a, b) => (rps(b, r) > rps(a, r) ? b : a));
    out.push(
      {
        suite: 'http',
        name: `${route}: kit throughput vs bare Express`,
        unit: 'req/s',
        flotilla: rps(kit, r),
        baseline: rps(bare, r),
        baselineName: bare.contender.name,
        target: { kind: 'min-ratio', ratio: 0.5 },
        note: `${runs}; ${detail(bare, r)}; ${detail(kit, r)}`,
        chart: { id: 'http-throughput', series: route },
      },
      {
        suite: 'http',
        name: `${route}: kit throughput vs the fastest observable peer`,
        unit: 'req/s',
        flotilla: rps(kit, r),
        baseline: rps(fastest, r),
        baselineName: fastest.contender.name,
        target: { kind: 'min-ratio', ratio: 2 },
        note: peers.map((s) => `${s.contender.name} ${Math.round(rps(s, r))}`).join('; '),
      },
      {
        suite: 'http',
        name: `${route}: kit p99 latency at ${EQUAL_LOAD_RPS} req/s vs bare Express`,
        unit: 'ms',
        flotilla: p(kit, r, 'p99', 'equalLoad'),
        baseline: p(bare, r, 'p99', 'equalLoad'),
        baselineName: bare.contender.name,
        target: { kind: 'max-ratio', ratio: 1.5 },
        note: `${shortOfRate(r, kit, bare)}both at the same rate, below both capacities, each run's first ${EQUAL_LOAD_SETTLE_SECONDS} s left out; p50 bare ${p(bare, r, 'p50', 'equalLoad')} ms, kit ${p(kit, r, 'p50', 'equalLoad')} ms`,
      },
      {
        suite: 'http',
        name: `${route}: kit p99 latency saturated vs bare Express`,
        unit: 'ms',
        flotilla: p(kit, r, 'p99'),
        baseline: p(bare, r, 'p99'),
        baselineName: bare.contender.name,
        target: { kind: 'info' },
        // Little's law: with N requests always in flight, mean latency = N / throughput, so a saturated
        // latency ratio restates the throughput ratio (a 0.5x server has >= 2x the latency) and cannot be
        // the latency target; the fixed-rate row above is.
        note: `saturated, ${CONNECTIONS} connections, so latency follows throughput (Little's law); p50 bare ${p(bare, r, 'p50')} ms, kit ${p(kit, r, 'p50')} ms`,
      },
      {
        suite: 'http',
        name: `${route}: kit server CPU per request, saturated, vs bare Express`,
        unit: 'us',
        flotilla: cpu(kit, r),
        baseline: cpu(bare, r),
        baselineName: bare.contender.name,
        target: { kind: 'info' },
        note: 'saturated: a server slower than the load generator also pays for waking it (see the fixed-rate rows)',
      },
    );
    // Every contender side by side: throughput (saturated) and CPU per request at the fixed rate.
    for (const s of servers.filter((x) => x !== kit && x.contender.routes.includes(r))) {
      const variant = s.contender.kind === 'kit';
      // A kit variant is the Flotilla side, compared with bare Express; anything else is a baseline.
      const [subject, base] = variant ? [s, bare] : [kit, s];
      // Bare Express's throughput row is the target row above.
      if (s !== bare)
        out.push({
          suite: 'http',
          name: variant
            ? `${route}: ${s.contender.name}: throughput vs bare Express`
            : `${route}: kit throughput vs ${s.contender.name}`,
          unit: 'req/s',
          flotilla: rps(subject, r),
          baseline: rps(base, r),
          baselineName: base.contender.name,
          target: { kind: 'info' },
          note: detail(s, r),
          ...(variant ? {} : { chart: { id: `http-throughput`, series: route } }),
        });
      out.push({
        suite: 'http',
        name: variant
          ? `${route}: ${s.contender.name}: server CPU per request at ${EQUAL_LOAD_RPS} req/s vs bare Express`
          : `${route}: kit server CPU per request at ${EQUAL_LOAD_RPS} req/s vs ${s.contender.name}`,
        unit: 'us',
        flotilla: equalCpu(subject, r),
        baseline: equalCpu(base, r),
        baselineName: base.contender.name,
        target: { kind: 'info' },
        note: `${shortOfRate(r, subject, base)}every server at the same rate, so none pays more for waking the load generator`,
        ...(variant ? {} : { chart: { id: `http-cpu`, series: route } }),
      });
    }
  }
  return out;
}

/** Request log line of a contender's log file (the kit's "request", pino-http's and Fastify's "request completed"). */
function requestLine(s: Server): string | undefined {
  return readFileSync(s.logFile, 'utf8')
    .split('\n')
    .find((l) => /"msg":"request( completed)?"/.test(l));
}

/**
 * What an observable contender failed to deliver: traces at its sink, metrics (when the interval is short
 * enough for this run to see an export), a request log line with a trace id. A benchmark of a contender
 * whose telemetry silently failed would flatter it.
 */
function unobserved(s: Server): string[] {
  if (s.contender.kind === 'baseline') return [];
  const problems: string[] = [];
  const exportsOf = (path: string) => s.sink.received.get(path)?.requests ?? 0;
  const tracesOff = s.contender.key === 'no-export' || s.contender.key.startsWith('no-sdk');
  if (!tracesOff && exportsOf('/v1/traces') === 0) problems.push(`${s.contender.name}: no trace export`);
  if (
    METRIC_INTERVAL !== undefined &&
    !s.contender.key.startsWith('no-sdk') &&
    exportsOf('/v1/metrics') === 0
  )
    problems.push(`${s.contender.name}: no metric export`);
  if (s.contender.logs && !requestLine(s)?.includes('"trace_id"'))
    problems.push(`${s.contender.name}: no request log line with a trace id`);
  return problems;
}

/** What a contender exported and logged, so a row shows its observability really ran. */
function observed(s: Server): string {
  const traces = s.sink.received.get('/v1/traces');
  const metrics = s.sink.received.get('/v1/metrics');
  const parts = [
    `${traces?.requests ?? 0} trace exports (${Math.round((traces?.bytes ?? 0) / 1024)} KiB)`,
    `${metrics?.requests ?? 0} metric exports`,
  ];
  if (s.contender.logs) {
    parts.push(
      `${(statSync(s.logFile).size / 1024 / 1024).toFixed(1)} MiB of logs, trace ids ${requestLine(s)?.includes('"trace_id"') ? 'present' : 'MISSING'}`,
    );
  }
  return parts.join(', ');
}
