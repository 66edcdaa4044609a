/**
 * `make bench`: runs every suite in order, each in its own process, and prints one summary table
 * (name, baseline, subject, ratio, target, pass/miss). Every ratio compares against a baseline measured in
 * the same run. `run.ts http synth` runs only the named suites. Exits 0 even when a target is missed:
 * benchmarks inform, they are not tests; the table says what missed.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot, TS_NODE_ARGS } from './lib/child.js';
import { passes, ratioOf, RESULT_PREFIX, targetText, type Row } from './lib/result.js';

const SUITES: Record<string, string> = {
  http: 'http/http.bench.ts',
  ready: 'ready/ready.bench.ts',
  consumer: 'consumer/consumer.bench.ts',
  synth: 'synth/synth.bench.ts',
};
const here = new URL('.', import.meta.url).pathname;
const chosen = process.argv.slice(2);
for (const name of chosen)
  if (!(name in SUITES)) throw new Error(`unknown suite "${name}"; one of ${Object.keys(SUITES).join(', ')}`);
const suites = chosen.length > 0 ? chosen : Object.keys(SUITES);

/** Runs one suite; its stdout passes through except the result line, which is parsed. */
function runSuite(name: string): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_ARGS, join(here, SUITES[name] as string)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      // Quieter output: no process warnings (e.g. experimental-feature notices).
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
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
  const header = ['suite', 'name', 'baseline', 'subject', 'ratio', 'target', 'result'];
  const lines = rows.map((r) => {
    const ratio = ratioOf(r);
    const ok = passes(r);
    return [
      r.suite,
      r.name,
      fmt(r.baseline, r.unit),
      fmt(r.subject, r.unit),
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

const started = Date.now();
console.log(
  `Flotilla benchmarks, ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPUs ` +
    `(${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()[0]?.toFixed(1)}`,
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
console.log(
  `\n${Math.round((Date.now() - started) / 1000)} s in all; load average now ${loadavg()[0]?.toFixed(1)}`,
);
if (failed.length > 0) {
  console.error(`suites that failed to run: ${failed.join(', ')}`);
  process.exitCode = 1;
}
