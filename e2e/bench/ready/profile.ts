/**
 * Profiles one start of the embedded-defaults kit service (the ready benchmark's subject) with
 * `--cpu-prof`, until `/readyz` answers 200, and prints CPU time by package. Not part of `make bench`:
 *   node --conditions=flotilla-source --import tsx e2e/bench/ready/profile.ts [db|nodb]
 */
import { get } from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTs } from '../lib/child.js';
import { compileEntry } from '../lib/compile.js';
import { summarise } from '../lib/cpuprofile.js';
import { freePort } from '../lib/ports.js';
import { sleep } from '../lib/stats.js';
import { benchSystem, benchSystemWithDatabase, catalogEnv, localEnvironment } from '../lib/system.js';

const here = new URL('.', import.meta.url).pathname;
const withDb = process.argv[2] !== 'nodb';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-ready-prof-'));
const ok = (url: string) =>
  new Promise<boolean>((resolve) => {
    const req = get(url, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
try {
  const port = await freePort();
  const env = localEnvironment({ otlpEndpoint: 'http://127.0.0.1:9', port, dataDir: join(dir, 'data') });
  const started = performance.now();
  // Compiled, without tsx, as an image runs it (run `npx tsc -b` first).
  const child = spawnTs(compileEntry(join(here, 'kit-service.ts')), {
    sources: false,
    env: catalogEnv(withDb ? benchSystemWithDatabase : benchSystem, env),
    nodeArgs: ['--import', '@flotilla/runtime/telemetry', '--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  while (!(await ok(`http://127.0.0.1:${port}/readyz`))) await sleep(10);
  const ms = performance.now() - started;
  await child.stop(15_000);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) as string;
  const s = summarise(join(dir, file));
  console.log(
    `ready after ${Math.round(ms)} ms; main-thread profile ${Math.round(s.totalMs)} ms (includes shutdown)`,
  );
  for (const [k, v] of s.byPackage.slice(0, 20))
    console.log(`  ${Math.round(v).toString().padStart(6)} ms  ${k}`);
  console.log('top functions:');
  for (const [k, v] of s.byFunction.slice(0, 15))
    console.log(`  ${Math.round(v).toString().padStart(6)} ms  ${k}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
