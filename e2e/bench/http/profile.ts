/**
 * Profiles a server of the HTTP benchmark in steady state: starts it with the benchmark's environment,
 * warms it up, then records a V8 CPU profile while loading it and prints where the time went, by package
 * and by function, plus the server's CPU time per request. Not part of `make bench`; run it when a target
 * is missed:
 *   node --conditions=flotilla-source --import tsx e2e/bench/http/profile.ts [contender] [seconds] [get|post] [KEY=VALUE ...]
 * The contender is a key of ./contenders.ts (kit, bare, node, bare-on-kit-server, fastify, express-sdk,
 * express-auto, kit-sampled, and the breakdown's variants). KEY=VALUE arguments override its environment
 * (e.g. OTEL_SDK_DISABLED=true). KEEP_PROFILE=1 keeps the .cpuprofile (open it in Chrome DevTools).
 * BENCH_PROFILE_RATE=3000 loads at that fixed rate instead of saturating: saturated, a server slower than the
 * load generator also pays for waking it on every response, which blurs a comparison of two profiles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs } from '../lib/cpu.js';
import { summarise } from '../lib/cpuprofile.js';
import { isMessage, variablesOf } from '../lib/child.js';
import type { ProfileWritten } from '../lib/profiler.js';
import { contender, routeLoad, startContender, type RouteKey, type RunningContender } from './contenders.js';
import { startLoadGenerator } from './generator.js';
import type { LoadSpec } from './load.js';

const [which = 'kit', secondsArg, routeArg = 'get', ...overrides] = process.argv.slice(2);
const route: RouteKey = routeArg === 'post' ? 'post' : 'get';
const seconds = Number(secondsArg ?? 8);
const rate =
  process.env.BENCH_PROFILE_RATE === undefined ? undefined : Number(process.env.BENCH_PROFILE_RATE);
const c = contender(which);
const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-prof-'));
const generator = startLoadGenerator();

const spec = (port: number, s: number): LoadSpec =>
  routeLoad(port, route, { connections: 20, seconds: s, rate });

let running: RunningContender | undefined;
try {
  running = await startContender(c, {
    stdoutFile: join(dir, `${c.key}.log`),
    extra: variablesOf(overrides),
  });
  const { child: server, port } = running;
  await generator.run(spec(port, 3));
  server.process.send({ type: 'profile-start' });
  const before = cpuMs(server.process.pid) ?? NaN;
  const result = await generator.run(spec(port, seconds));
  const after = cpuMs(server.process.pid) ?? NaN;
  const file = join(dir, `${c.key}.cpuprofile`);
  server.process.send({ type: 'profile-stop', file });
  await server.message(isMessage<ProfileWritten>('profile-written'));
  await server.stop(15_000);

  const s = summarise(file);
  // Per request, not a share of the profile: comparable between two servers' profiles.
  const pct = (ms: number) => `${((1000 * ms) / result.total).toFixed(1).padStart(6)} us/req`;
  console.log(
    `${c.name} (${routeArg.toUpperCase()}): ${Math.round(result.rps)} req/s, p99 ${result.p99} ms, ` +
      `${Math.round(((after - before) * 1000) / result.total)} us CPU per request (profiler on)`,
  );
  console.log('\nself time by package:');
  for (const [k, ms] of s.byPackage.slice(0, 25)) console.log(`  ${pct(ms)}  ${k}`);
  console.log('\nself time by function:');
  for (const [k, ms] of s.byFunction.slice(0, 30)) console.log(`  ${pct(ms)}  ${k}`);
  console.log('\ninclusive time of chosen frames:');
  const interesting =
    /^(observeRequest|requestIdMiddleware|inFlight\w*|patched|incomingRequest|startSpan|end|onEnd|_flushOneBatch|export|jsonParser|redact|_asJson|child|record|add|json|send|mixin|activeTraceFields|with|_callResponseHook|\w*[Hh]ealth\w*) /;
  for (const [k, ms] of s.inclusive(interesting).slice(0, 40)) console.log(`  ${pct(ms)}  ${k}`);
  // At a fixed rate, the p99 is set by the few stretches that hold the event loop longest.
  console.log('\nlongest stretches without an idle sample (what requests waited behind):');
  for (const b of s.busyStretches(8))
    console.log(
      `  ${b.ms.toFixed(1).padStart(5)} ms at ${(b.atMs / 1000).toFixed(2)} s, ${b.samples} samples: ` +
        b.byFunction
          .slice(0, 4)
          .map(([k, ms]) => `${k} ${ms.toFixed(1)}`)
          .join(', '),
    );
} finally {
  await generator.stop();
  // Also when a run failed: the server would otherwise outlive this script.
  await running?.stop();
  if (process.env.KEEP_PROFILE !== '1') rmSync(dir, { recursive: true, force: true });
  else console.log(`profile kept in ${dir}`);
}
