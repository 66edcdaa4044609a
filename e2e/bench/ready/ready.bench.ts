/**
 * Issue 2, start-up: time from spawning a kit service process on embedded defaults (telemetry preloaded,
 * PGlite database copied from the cached template, one migration) to its first `/readyz` 200, compiled and
 * run as the images run it: `node --import @flotilla/runtime/telemetry main.js` on the runtime's `dist/`
 * (`make bench` builds first), no tsx. Target: <= 2 s, median of 5. For scale, in the same run and
 * interleaved: a bare Express process through tsx (spawn to first 200), the same service from sources
 * through tsx (how `make dev` runs it), and without a database; with BENCH_READY_DETAIL=1 also a restart
 * on an existing data directory.
 */
import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnTs } from '../lib/child.js';
import { compileEntry } from '../lib/compile.js';
import { startOtlpSink } from '../lib/otlp-sink.js';
import { freePort } from '../lib/ports.js';
import { knob, report, type Row } from '../lib/result.js';
import { median, samples, sleep } from '../lib/stats.js';
import { benchSystem, benchSystemWithDatabase, catalogEnv, localEnvironment } from '../lib/system.js';
import { ensurePgliteTemplate } from '../../../platform/runtime/src/database/index.js';

const here = new URL('.', import.meta.url).pathname;
const RUNS = knob('BENCH_READY_RUNS', 5, 1);
const PRELOAD = ['--import', '@flotilla/runtime/telemetry'];
// The restart row explains a miss; off by default to keep `make bench` short.
const DETAIL = process.env.BENCH_READY_DETAIL === '1';

/** Status of GET url, or 0 when nothing answers yet. */
function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

/** Spawns `entry`, polls `path` every 10 ms until 200, and returns the elapsed ms; then stops the process. */
async function timeToOk(
  entry: string,
  env: Record<string, string>,
  port: number,
  path: string,
  nodeArgs: string[],
  sources = true,
) {
  const started = performance.now();
  const child = spawnTs(resolve(here, entry), { env: { ...env, PORT: String(port) }, nodeArgs, sources });
  let exited = false;
  void child.exited.then(() => (exited = true));
  try {
    for (;;) {
      if (exited) throw new Error(`${entry} exited before ${path} answered 200`);
      if ((await status(`http://127.0.0.1:${port}${path}`)) === 200) return performance.now() - started;
      if (performance.now() - started > 30_000) throw new Error(`${entry}: ${path} not 200 within 30 s`);
      await sleep(10);
    }
  } finally {
    await child.stop();
  }
}

const sink = await startOtlpSink();
const work = mkdtempSync(join(tmpdir(), 'flotilla-bench-ready-'));
try {
  // The template is made once per PGlite version and machine (initdb, seconds); not part of a start.
  await ensurePgliteTemplate();
  const bare: number[] = [];
  const kitNoDb: number[] = [];
  const kitDb: number[] = [];
  const kitDbRestart: number[] = [];
  const kitDbSources: number[] = [];
  // As an image runs a service: compiled JS, plain node with the telemetry preload, no tsx.
  const compiled = compileEntry(join(here, 'kit-service.ts'));
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const env = (dir: string) =>
      localEnvironment({ otlpEndpoint: sink.endpoint, port, dataDir: join(work, `${dir}-${i}`) });
    bare.push(await timeToOk('../http/bare-server.ts', {}, port, '/api/items/1', []));
    kitNoDb.push(
      await timeToOk(compiled, catalogEnv(benchSystem, env('nodb')), port, '/readyz', PRELOAD, false),
    );
    const dbEnv = catalogEnv(benchSystemWithDatabase, env('run'));
    kitDb.push(await timeToOk(compiled, dbEnv, port, '/readyz', PRELOAD, false));
    const sourcesEnv = catalogEnv(benchSystemWithDatabase, env('src'));
    kitDbSources.push(await timeToOk('kit-service.ts', sourcesEnv, port, '/readyz', PRELOAD));
    if (DETAIL) kitDbRestart.push(await timeToOk(compiled, dbEnv, port, '/readyz', PRELOAD, false));
  }
  const row = (name: string, values: number[], target: Row['target']): Row => ({
    suite: 'ready',
    name,
    unit: 'ms',
    flotilla: median(values),
    baseline: median(bare),
    baselineName: 'bare Express 5 through tsx, spawn to first 200',
    target,
    note: `${RUNS} runs: ${samples(values)}; bare Express ${samples(bare)}`,
  });
  report([
    row('spawn to /readyz 200, PGlite from template (compiled)', kitDb, { kind: 'max-value', value: 2000 }),
    row('same, runtime from sources through tsx (make dev)', kitDbSources, { kind: 'info' }),
    row('spawn to /readyz 200, no database (compiled)', kitNoDb, { kind: 'info' }),
    ...(DETAIL
      ? [row('spawn to /readyz 200, PGlite restart (compiled)', kitDbRestart, { kind: 'info' })]
      : []),
  ]);
} finally {
  await sink.close();
  rmSync(work, { recursive: true, force: true });
}
