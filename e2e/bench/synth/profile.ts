/**
 * Profiles one render + validate of a generated system (not part of `make bench`):
 *   node --conditions=flotilla-source --import tsx e2e/bench/synth/profile.ts [services]
 */
import { rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prod } from '../../../charts-ts/src/environments/index.js';
import { summarise } from '../lib/cpuprofile.js';
import { renderAndValidate, validators } from './flotilla.js';
import { generatedSystem } from './generate.js';

const n = Number(process.argv[2] ?? 250);
const v = validators();
renderAndValidate(generatedSystem(10), prod, v);
const system = generatedSystem(n);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const result = renderAndValidate(system, prod, v);
const { profile } = await session.post('Profiler.stop');
const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-synth-prof-'));
const file = join(dir, 'synth.cpuprofile');
writeFileSync(file, JSON.stringify(profile));
const s = summarise(file);
const pct = (ms: number) => `${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%`;
console.log(
  `${n} services: ${result.objects} objects, render ${Math.round(result.renderMs)} ms, validate ${Math.round(result.validateMs)} ms`,
);
console.log('\nself time by package:');
for (const [k, ms] of s.byPackage.slice(0, 20)) console.log(`  ${pct(ms)}  ${k}`);
console.log('\nself time by function:');
for (const [k, ms] of s.byFunction.slice(0, 25)) console.log(`  ${pct(ms)}  ${k}`);
console.log('\ninclusive time of chosen frames:');
for (const [k, ms] of s
  .inclusive(
    /^(render|buildEnvironmentCharts|toJson|stringify|parseAllDocuments|validate|resolve|_synthChart|synth\w*|applyFlotilla\w*|new \w+|\w+Chart\w*|envFor|[A-Z]\w+) /,
  )
  .slice(0, 40))
  console.log(`  ${pct(ms)}  ${k}`);
if (process.env.KEEP_PROFILE === '1') console.log(`profile kept in ${file}`);
else rmSync(dir, { recursive: true, force: true });
