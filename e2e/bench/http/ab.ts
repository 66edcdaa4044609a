/**
 * A/B of one HTTP contender built from two checkouts of the repository (e.g. `main` in a second worktree
 * against the working tree): both servers run side by side, loaded in turn (A, B, A, B, ...) at one fixed
 * rate, and compared by server CPU microseconds per request from /proc, the measure that a busy shared
 * machine disturbs least (see ../README.md). Not part of `make bench`; for checking an optimisation:
 *
 *   git worktree add --detach ../base main && (cd ../base && make deps build)
 *   npx tsc -b && node --import tsx e2e/bench/http/ab.ts ../base . [KEY=VALUE ...]
 *
 * Knobs (environment): AB_CONTENDER (kit; a key of ./contenders.ts), AB_ROUTE (get | post), AB_RATE
 * (3000 req/s; 0 = saturated), AB_CONTENDER_A / AB_CONTENDER_B (another contender on that side),
 * AB_ENV_A / AB_ENV_B (`KEY=VALUE,KEY=VALUE` for that side only: one checkout in two configurations),
 * AB_SECONDS (5), AB_ROUNDS (8), AB_WARMUP_SECONDS (3), AB_SETTLE_SECONDS (0: seconds at the rate before
 * each run's counted ones, see LoadSpec.settleSeconds), AB_TOGETHER=1 (load A and B at the same time, each
 * from a generator of its own, the two swapped between the sides every round: both then run in the same
 * conditions of a busy machine, which makes their paired differences far steadier than turns do).
 * KEY=VALUE arguments go to both servers' environments (e.g. LOG_LEVEL=silent). Each side runs on its own checkout's compiled runtime (`dist/`) and telemetry
 * preload; the load generator is this checkout's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs } from '../lib/cpu.js';
import { variablesOf } from '../lib/child.js';
import { median } from '../lib/stats.js';
import { contender, routeLoad, startContender, type RouteKey, type RunningContender } from './contenders.js';
import { startLoadGenerator, type LoadGenerator } from './generator.js';
import type { LoadSpec } from './load.js';

const [rootA, rootB, ...overrides] = process.argv.slice(2);
if (rootA === undefined || rootB === undefined)
  throw new Error('usage: ab.ts <checkout A> <checkout B> [KEY=VALUE ...]');
const c = contender(process.env.AB_CONTENDER ?? 'kit');
// A side may run another contender (e.g. AB_CONTENDER_A=bare: the kit's ratio to bare Express).
const contenderOf = (label: 'A' | 'B') => {
  const key = process.env[`AB_CONTENDER_${label}`];
  return key === undefined ? c : contender(key);
};
const route: RouteKey = process.env.AB_ROUTE === 'post' ? 'post' : 'get';
const rate = Number(process.env.AB_RATE ?? 3000);
const seconds = Number(process.env.AB_SECONDS ?? 5);
const rounds = Number(process.env.AB_ROUNDS ?? 8);
const warmup = Number(process.env.AB_WARMUP_SECONDS ?? 3);
const settle = Number(process.env.AB_SETTLE_SECONDS ?? 0);
const extra = variablesOf(overrides);
const extraOf = (label: 'A' | 'B') => ({
  ...extra,
  ...variablesOf((process.env[`AB_ENV_${label}`] ?? '').split(',')),
});

interface Side extends RunningContender {
  readonly label: string;
  readonly us: number[];
  readonly rps: number[];
  readonly p99: number[];
}

const work = mkdtempSync(join(tmpdir(), 'flotilla-bench-ab-'));
const together = process.env.AB_TOGETHER === '1';
const generators = together ? [startLoadGenerator(), startLoadGenerator()] : [startLoadGenerator()];
const sides: Side[] = [];

async function start(label: 'A' | 'B', root: string): Promise<Side> {
  const running = await startContender(contenderOf(label), {
    stdoutFile: join(work, `${label}.log`),
    extra: extraOf(label),
    root,
  });
  return { ...running, label: `${label} ${running.contender.key}`, us: [], rps: [], p99: [] };
}

const spec = (s: Side, secs: number): LoadSpec =>
  routeLoad(s.port, route, {
    connections: 20,
    seconds: secs,
    rate: rate > 0 ? rate : undefined,
    settleSeconds: settle,
  });

async function load(s: Side, secs: number, generator = generators[0] as LoadGenerator): Promise<void> {
  const before = cpuMs(s.child.process.pid) ?? NaN;
  const r = await generator.run(spec(s, secs));
  const after = cpuMs(s.child.process.pid) ?? NaN;
  s.us.push(((after - before) * 1000) / r.total);
  s.rps.push(r.rps);
  s.p99.push(r.p99);
}

try {
  // One at a time, so a side that fails to start still has the other stopped by `finally`.
  sides.push(await start('A', rootA));
  sides.push(await start('B', rootB));
  const round = async (secs: number, i: number) => {
    // Together, the sides swap generators each round: a run of identical sides once favoured one of them
    // by up to ~10 us a request, and a swap cancels what of that comes from the generator.
    if (together) await Promise.all(sides.map((s, k) => load(s, secs, generators[(k + i) % 2])));
    // Alternate which side goes first, so neither always follows the other's after-effects.
    else for (const s of i % 2 === 0 ? sides : [...sides].reverse()) await load(s, secs);
  };
  await round(warmup, 0);
  for (const s of sides) for (const samples of [s.us, s.rps, s.p99]) samples.length = 0;
  for (let i = 0; i < rounds; i++) await round(seconds, i);
  const [a, b] = sides as [Side, Side];
  const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join(' ');
  console.log(
    `${c.name} ${route.toUpperCase()} ${rate > 0 ? `at ${rate} req/s` : 'saturated'}, ${rounds}x${seconds} s` +
      `${together ? ' (A and B together)' : ''}, ` +
      `${JSON.stringify(extra)}; A ${JSON.stringify(extraOf('A'))}, B ${JSON.stringify(extraOf('B'))}`,
  );
  for (const s of sides)
    console.log(
      `  ${s.label} ${s === a ? rootA : rootB}: CPU ${median(s.us).toFixed(1)} us/req [${fmt(s.us)}], ` +
        `${Math.round(median(s.rps))} req/s, p99 ${median(s.p99)} ms`,
    );
  const diffs = a.us.map((x, i) => (b.us[i] as number) - x);
  console.log(`  B - A: median of paired differences ${median(diffs).toFixed(1)} us/req [${fmt(diffs)}]`);
} finally {
  await Promise.all(generators.map((g) => g.stop()));
  await Promise.all(sides.map((s) => s.stop()));
  rmSync(work, { recursive: true, force: true });
}
