/**
 * `make fuzz`: Schemathesis against the shop, started as `make dev` starts it (`startStack`, ephemeral ports,
 * a temporary state directory): first the public document through the gateway, then each service's own
 * document on its port. Every phase Schemathesis has runs (examples, coverage, fuzzing, and the stateful
 * phase, which follows the documents' links), with every check (no 5xx, responses as documented, valid data
 * accepted, invalid data refused, 405 for undocumented methods ...), configured in e2e/fuzz/schemathesis.toml.
 * Afterwards no service may have crashed or logged an error. Exit status 0 only when all of that holds.
 *
 * FLOTILLA_SCHEMATHESIS: the `st` executable (scripts/schemathesis.sh prints it). FUZZ_EXAMPLES: test cases
 * per operation and phase (default 50). FUZZ_SEED: the seed (default 1; `random` for a new one each run).
 * Everything the stack prints goes to `<tmpdir>/flotilla-fuzz/stack.log`; Schemathesis's reports (JUnit, and
 * the failing cases as curl commands in its output) to `<tmpdir>/flotilla-fuzz/<target>/`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '@flotilla/dev';
import { shop } from '../../services/system.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = fileURLToPath(new URL('./schemathesis.toml', import.meta.url));

const st = process.env.FLOTILLA_SCHEMATHESIS;
if (!st) {
  console.error(
    'FLOTILLA_SCHEMATHESIS is not set: run `make fuzz` (it installs Schemathesis with scripts/schemathesis.sh)',
  );
  process.exit(2);
}
const examples = Number(process.env.FUZZ_EXAMPLES ?? '50');
if (!Number.isInteger(examples) || examples < 1) {
  console.error(`FUZZ_EXAMPLES=${process.env.FUZZ_EXAMPLES} is not a positive integer`);
  process.exit(2);
}
const seed = process.env.FUZZ_SEED === 'random' ? undefined : (process.env.FUZZ_SEED ?? '1');

interface ServiceLine {
  readonly service: string;
  readonly level?: unknown;
  readonly msg?: unknown;
}

const outDir = join(tmpdir(), 'flotilla-fuzz');
mkdirSync(outDir, { recursive: true });
const logFile = join(outDir, 'stack.log');
const log = createWriteStream(logFile);
const root = await mkdtemp(join(tmpdir(), 'flotilla-fuzz-'));
const errors: ServiceLine[] = [];
const crashes: string[] = [];
const started = Date.now();

console.log(`starting the shop (stack log: ${logFile})`);
const stack = await startStack({
  system: shop,
  rootDir: REPO_ROOT,
  stateDir: join(root, '.dev'),
  servicePorts: 'ephemeral',
  gatewayPort: 0,
  emulatorPort: 0,
  traceSinkPort: 0,
  color: false,
  output: (line) => {
    log.write(`${line}\n`);
    if (/\bcrashed\b/.test(line)) crashes.push(line);
  },
  onServiceLine: (service, line) => {
    if (!line.startsWith('{')) return;
    try {
      const record = { ...(JSON.parse(line) as Record<string, unknown>), service } as ServiceLine;
      if (record.level === 'error' || record.level === 'fatal' || Number(record.level) >= 50)
        errors.push(record);
    } catch {
      // not a JSON line: only in the log file
    }
  },
});

/** Runs Schemathesis on one document; resolves with its exit code. */
function schemathesis(name: string, url: string): Promise<number> {
  const reports = join(outDir, name);
  const args = [
    '--config-file',
    CONFIG,
    '--no-color',
    'run',
    url,
    '--max-examples',
    String(examples),
    ...(seed === undefined ? [] : ['--seed', seed]),
    '--report',
    'junit',
    '--report-dir',
    reports,
  ];
  console.log(`\n== ${name}: st ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(st!, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const results: { name: string; code: number; seconds: number }[] = [];
try {
  const targets = [{ name: 'public', url: `${stack.gatewayUrl}/openapi.json` }];
  for (const service of stack.services()) {
    const res = await fetch(`${service.url}/openapi.json`);
    await res.arrayBuffer();
    if (res.ok) targets.push({ name: service.name, url: `${service.url}/openapi.json` });
    else console.log(`${service.name} serves no OpenAPI document (${res.status}): not fuzzed`);
  }
  for (const target of targets) {
    const t0 = Date.now();
    const code = await schemathesis(target.name, target.url);
    results.push({ name: target.name, code, seconds: Math.round((Date.now() - t0) / 1000) });
  }
} finally {
  await stack.stop();
  log.end();
  await rm(root, { recursive: true, force: true });
}

console.log(`\n== make fuzz: ${examples} examples per operation and phase, seed ${seed ?? 'random'}`);
for (const r of results)
  console.log(
    `  ${r.name.padEnd(14)} ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`} in ${r.seconds} s`,
  );
for (const line of crashes) console.log(`  crash: ${line}`);
for (const e of errors.slice(0, 20)) console.log(`  error logged by ${e.service}: ${String(e.msg)}`);
if (errors.length > 20)
  console.log(`  ... and ${errors.length - 20} more error lines (stack log: ${logFile})`);
const failed =
  results.filter((r) => r.code !== 0).length + (crashes.length > 0 ? 1 : 0) + (errors.length > 0 ? 1 : 0);
console.log(`  total ${Math.round((Date.now() - started) / 1000)} s`);
console.log(
  `${results.length - results.filter((r) => r.code !== 0).length} passed, ${results.filter((r) => r.code !== 0).length} failed`,
);
process.exit(failed === 0 ? 0 : 1);
