/**
 * What the garbage collector does in a server of the HTTP benchmark at one fixed rate: V8's own trace
 * (`--trace-gc-nvp`) of every collection, summed up per kind (scavenges of the young generation,
 * mark-compacts of the whole heap) with their pauses and the bytes they copied and promoted. A scavenge
 * pauses the server for a time that grows with what survives it, so this is where a p99 at a fixed rate far
 * above the median comes from. Not part of `make bench`; run it when a latency target is missed:
 *   node --conditions=flotilla-source --import tsx e2e/bench/http/gc.ts [contender] [seconds] [get|post] [KEY=VALUE ...]
 * BENCH_GC_RATE (3000 req/s) sets the rate; BENCH_GC_NODE_ARGS adds node arguments (e.g. V8's GC flags).
 * KEY=VALUE arguments override the contender's environment.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { variablesOf } from '../lib/child.js';
import { percentile } from '../lib/stats.js';
import { contender, routeLoad, startContender, type RouteKey, type RunningContender } from './contenders.js';
import { startLoadGenerator } from './generator.js';
import type { LoadSpec } from './load.js';

const [which = 'kit', secondsArg, routeArg = 'get', ...overrides] = process.argv.slice(2);
const route: RouteKey = routeArg === 'post' ? 'post' : 'get';
const seconds = Number(secondsArg ?? 10);
const rate = Number(process.env.BENCH_GC_RATE ?? 3000);
const c = contender(which);
const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-gc-'));
const generator = startLoadGenerator();
const log = join(dir, `${c.key}.log`);

const spec = (port: number, s: number): LoadSpec =>
  routeLoad(port, route, { connections: 20, seconds: s, rate });

/** One line of `--trace-gc-nvp`: `pause=1.2 mutator=3.4 gc=s ... promoted=123 semi_space_copied=456 ...`. */
type Collection = Record<string, string>;

function collections(text: string): Collection[] {
  return text
    .split('\n')
    .filter((line) => line.includes(' gc=') && line.includes('pause='))
    .map((line) =>
      Object.fromEntries(
        line
          .trim()
          .split(/\s+/)
          .map((kv) => kv.split('=', 2) as [string, string]),
      ),
    );
}

/** Per collection of a kind: the average of these fields of its trace line. */
const BYTES = ['new_space_survived', 'promoted', 'new_space_capacity'];
/** Phases of a pause (V8's own names) listed when they take this long on average. */
const PHASE_SHOWN_MS = 0.1;
const NOT_PHASES = new Set(['pause', 'mutator', 'time_to_safepoint']);

/** Average milliseconds per phase (the trace's decimal fields, less its rates), largest first. */
function phases(these: readonly Collection[]): Array<[string, number]> {
  const keys = Object.keys(these[0] ?? {}).filter(
    (k) =>
      !NOT_PHASES.has(k) &&
      !k.endsWith('throughput') &&
      /^[a-z_.]+$/.test(k) &&
      /^\d+\.\d+$/.test(these[0]?.[k] ?? ''),
  );
  return keys
    .map((k): [string, number] => [k, these.reduce((n, g) => n + Number(g[k]), 0) / these.length])
    .sort((a, b) => b[1] - a[1]);
}

function summary(kind: string, all: readonly Collection[], requests: number): string {
  const these = all.filter((g) => g.gc === kind);
  if (these.length === 0) return `  ${kind}: none`;
  const pauses = these.map((g) => Number(g.pause)).sort((a, b) => a - b);
  const average = (key: string) => these.reduce((n, g) => n + Number(g[key] ?? 0), 0) / these.length;
  const allocated = these.reduce((n, g) => n + Number(g.allocated ?? 0), 0);
  return [
    `  ${kind}: ${these.length} (${(these.length / seconds).toFixed(1)}/s), pause avg ${average('pause').toFixed(2)} ms, ` +
      `p50 ${percentile(pauses, 50)} ms, max ${pauses.at(-1)} ms; ${(allocated / requests / 1024).toFixed(1)} KB ` +
      'allocated per request',
    `    per collection: ${BYTES.map((k) => `${k} ${(average(k) / 1024).toFixed(0)} KB`).join(', ')}`,
    `    phases: ${phases(these)
      .filter(([, ms]) => ms >= PHASE_SHOWN_MS)
      .map(([k, ms]) => `${k} ${ms.toFixed(2)} ms`)
      .join(', ')}`,
  ].join('\n');
}

let running: RunningContender | undefined;
try {
  running = await startContender(c, {
    stdoutFile: log,
    extra: variablesOf(overrides),
    nodeArgs: ['--trace-gc-nvp', ...(process.env.BENCH_GC_NODE_ARGS ?? '').split(' ').filter(Boolean)],
  });
  const { port } = running;
  await generator.run(spec(port, 3));
  const warm = collections(readFileSync(log, 'utf8')).length;
  const result = await generator.run(spec(port, seconds));
  const measured = collections(readFileSync(log, 'utf8')).slice(warm);
  await running.stop();
  console.log(
    `${c.name} (${routeArg.toUpperCase()}) at ${rate} req/s for ${seconds} s: p50 ${result.p50} ms, ` +
      `p99 ${result.p99} ms, ${result.total} requests`,
  );
  for (const kind of ['s', 'mc', 'mmc']) console.log(summary(kind, measured, result.total));
} finally {
  await generator.stop();
  // Also when a run failed: the server would otherwise outlive this script.
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
}
