/**
 * `make bench`: runs every suite in order, each in its own process, prints one summary table (name,
 * baseline, Flotilla, ratio, target, pass/miss) and writes the results. Every ratio compares against a
 * baseline measured in the same run. Exits 0 even when a target is missed: benchmarks inform, they are not
 * tests; the table says what missed.
 *
 *   run.ts [suite ...] [--smoke]
 *
 * - All suites, full durations: `bench-results.json` at the repository root and docs/benchmarks.md with its
 *   charts (the committed copies; `make bench-docs` regenerates the docs from the JSON alone).
 * - Some suites, or `--smoke` (BENCH_SMOKE=1): `.cache/bench/bench-results[.smoke].json` and the docs beside
 *   it, so a partial or smoke run never replaces the committed figures. BENCH_RESULTS=<file> overrides.
 * - `--smoke`: every suite with tiny durations, then a check that every row is there with a sane number
 *   (lib/smoke.ts); exits 1 when one is not. Timing targets are not checked.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoRoot, TS_NODE_ARGS } from './lib/child.js';
import { passes, RESULT_PREFIX, targetText, type Row, ratioOf } from './lib/result.js';
import { smokeProblems } from './lib/smoke.js';
import { writeDocs } from './report/docs.js';
import { results, runContext } from './report/results.js';

const SUITES: Record<string, string> = {
  http: 'http/http.bench.ts',
  ready: 'ready/ready.bench.ts',
  consumer: 'consumer/consumer.bench.ts',
  synth: 'synth/synth.bench.ts',
  shop: 'shop/shop.bench.ts',
};
const here = new URL('.', import.meta.url).pathname;
const args = process.argv.slice(2);
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const chosen = args.filter((a) => a !== '--smoke');
for (const name of chosen)
  if (!(name in SUITES)) throw new Error(`unknown suite "${name}"; one of ${Object.keys(SUITES).join(', ')}`);
const suites = chosen.length > 0 ? chosen : Object.keys(SUITES);
const complete = suites.length === Object.keys(SUITES).length && !smoke;

/** Runs one suite; its stdout passes through except the result line, which is parsed. */
function runSuite(name: string): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_ARGS, join(here, SUITES[name] as string)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      // Quieter output: no process warnings (e.g. experimental-feature notices).
      env: { ...process.env, NODE_NO_WARNINGS: '1', ...(smoke ? { BENCH_SMOKE: '1' } : {}) },
    });
    let rows: Row[] | undefined;
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let at: number;
      while ((at = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        if (line.startsWith(RESULT_PREFIX)) rows = JSON.parse(line.slice(RESULT_PREFIX.length)) as Row[];
        else if (line.trim() !== '') console.log(`  [${name}] ${line}`);
      }
    });
    child.once('exit', (code) =>
      code === 0 && rows ? resolve(rows) : reject(new Error(`suite ${name} failed (exit ${code})`)),
    );
  });
}

function fmt(value: number | undefined, unit: string): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function table(rows: readonly Row[]): string {
  const header = ['suite', 'name', 'baseline', 'Flotilla', 'ratio', 'target', 'result'];
  const lines = rows.map((r) => {
    const ratio = ratioOf(r);
    const ok = passes(r);
    return [
      r.suite,
      r.name,
      fmt(r.baseline, r.unit),
      fmt(r.flotilla, r.unit),
      ratio === undefined ? '-' : `${ratio.toFixed(2)}x`,
      targetText(r.target, r.unit),
      ok === undefined ? 'info' : ok ? 'pass' : 'MISS',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)].join('\n');
}

const context = runContext();
const started = Date.now();
console.log(
  `Flotilla benchmarks${smoke ? ' (SMOKE: tiny durations, the numbers mean nothing)' : ''}, ${context.date}, ` +
    `Node ${context.node}, ${context.machine.cores} CPUs (${context.machine.cpu}), load average ` +
    `${context.loadAtStart.join(' ')}`,
);
const rows: Row[] = [];
const failed: string[] = [];
for (const name of suites) {
  const t = Date.now();
  console.log(`\n== ${name}`);
  try {
    rows.push(...(await runSuite(name)));
    console.log(`  done in ${Math.round((Date.now() - t) / 1000)} s`);
  } catch (err) {
    failed.push(name);
    console.error(`  ${(err as Error).message}`);
  }
}
console.log(`\n${table(rows)}\n`);
for (const r of rows) if (r.note) console.log(`${r.suite} / ${r.name}: ${r.note}`);

const run = results(context, {
  smoke,
  suites,
  failedSuites: failed,
  seconds: (Date.now() - started) / 1000,
  rows,
});
const resultsFile =
  process.env.BENCH_RESULTS ??
  (complete
    ? join(repoRoot, 'bench-results.json')
    : join(repoRoot, '.cache', 'bench', smoke ? 'bench-results.smoke.json' : 'bench-results.json'));
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(run, null, 2)}\n`);
const docsFile = complete
  ? join(repoRoot, 'docs', 'benchmarks.md')
  : join(dirname(resultsFile), 'benchmarks.md');
writeDocs(run, docsFile);
console.log(
  `\n${Math.round(run.seconds)} s in all; load average now ${run.loadAverage.end.join(' ')}; ` +
    `wrote ${relative(repoRoot, resultsFile)} and ${relative(repoRoot, docsFile)}`,
);
if (failed.length > 0) {
  console.error(`suites that failed to run: ${failed.join(', ')}`);
  process.exitCode = 1;
}
if (smoke) {
  const problems = smokeProblems(run.rows, suites);
  for (const p of problems) console.error(`smoke: ${p}`);
  console.log(
    `bench smoke: ${suites.length} suites, ${run.rows.length} rows, ${problems.length + failed.length} problems`,
  );
  if (problems.length > 0) process.exitCode = 1;
}
