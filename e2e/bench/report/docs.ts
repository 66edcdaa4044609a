/**
 * docs/benchmarks.md and its charts (docs/benchmarks/*.svg), generated from a results file alone:
 *
 *   node --import tsx e2e/bench/report/docs.ts [bench-results.json] [docs/benchmarks.md]
 *
 * (`make bench-docs`; `make bench` calls {@link writeDocs} itself after a full run.)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultEntry, Results } from './results.js';
import { barChart, formatNumber, lineChart } from './svg.js';

const KIT = 'Flotilla kit';

interface Chart {
  /** File name under the charts directory. */
  readonly file: string;
  readonly alt: string;
  /** The suite whose section shows it. */
  readonly suite: string;
  readonly svg: string;
}

function charted(rows: readonly ResultEntry[], id: string): ResultEntry[] {
  return rows.filter((r) => r.chart?.id === id);
}

/** Contenders side by side: the kit (every row's Flotilla side) and each row's baseline, per series. */
function contenderChart(
  rows: readonly ResultEntry[],
  id: string,
  title: string,
  unit: string,
): string | undefined {
  const chosen = charted(rows, id);
  if (chosen.length === 0) return undefined;
  const series = [...new Set(chosen.map((r) => r.chart?.series ?? ''))];
  const values = new Map<string, (number | undefined)[]>();
  const set = (name: string, si: number, value: number | null) => {
    const row = values.get(name) ?? series.map(() => undefined);
    if (value !== null) row[si] = value;
    values.set(name, row);
  };
  for (const r of chosen) {
    const si = series.indexOf(r.chart?.series ?? '');
    set(KIT, si, r.flotilla);
    if (r.baselineName) set(r.baselineName, si, r.baseline);
  }
  const categories = [...values.keys()].sort((a, b) => (values.get(b)?.[0] ?? 0) - (values.get(a)?.[0] ?? 0));
  return barChart({
    title,
    unit,
    categories,
    series,
    values: categories.map((c) => values.get(c) ?? []),
    highlight: KIT,
  });
}

function charts(results: Results): Chart[] {
  const out: Chart[] = [];
  const throughput = contenderChart(
    results.rows,
    'http-throughput',
    'HTTP throughput, saturated (20 connections): higher is better',
    'req/s',
  );
  if (throughput)
    out.push({
      file: 'http-throughput.svg',
      alt: 'HTTP throughput of every contender',
      suite: 'http',
      svg: throughput,
    });
  const cpuRow = charted(results.rows, 'http-cpu')[0];
  const rate = cpuRow ? /at (\d+) req\/s/.exec(cpuRow.name)?.[1] : undefined;
  const cpu = contenderChart(
    results.rows,
    'http-cpu',
    `HTTP server CPU per request at ${rate ?? 'one fixed rate'} req/s: lower is better`,
    'µs/request',
  );
  if (cpu)
    out.push({
      file: 'http-cpu.svg',
      alt: 'HTTP server CPU per request of every contender',
      suite: 'http',
      svg: cpu,
    });
  const synth = charted(results.rows, 'synth');
  if (synth.length > 0)
    out.push({
      file: 'synth.svg',
      alt: 'synth time against the number of services',
      suite: 'synth',
      svg: lineChart({
        title: 'Synth (render + validate, prod) against the number of services',
        xLabel: 'services',
        yLabel: 'ms',
        series: [
          {
            name: 'Flotilla charts: render + validate',
            points: synth.map((r) => [r.chart?.x ?? NaN, r.flotilla ?? NaN] as const),
          },
          {
            name: synth[0]?.baselineName ?? 'baseline',
            points: synth.map((r) => [r.chart?.x ?? NaN, r.baseline ?? NaN] as const),
          },
        ],
      }),
    });
  const shop = charted(results.rows, 'shop-latency');
  if (shop.length > 0) {
    const series = [...new Set(shop.map((r) => r.chart?.series ?? ''))];
    out.push({
      file: 'shop-latency.svg',
      alt: 'shop latency against the offered rate',
      suite: 'shop',
      svg: lineChart({
        title: 'The shop under load: latency against the offered rate',
        xLabel: 'orders per second (open loop)',
        yLabel: 'ms',
        logY: true,
        series: series.map((name) => ({
          name,
          points: shop
            .filter((r) => r.chart?.series === name)
            .map((r) => [r.chart?.x ?? NaN, r.flotilla ?? NaN] as const),
        })),
      }),
    });
  }
  return out;
}

function value(v: number | null, unit: string): string {
  return v === null ? '-' : `${formatNumber(v)} ${unit}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function resultText(r: ResultEntry): string {
  return r.pass === null ? '' : r.pass ? 'pass' : '**MISS**';
}

function table(rows: readonly ResultEntry[], withSuite = false): string[] {
  const head = [...(withSuite ? ['suite'] : []), 'row', 'Flotilla', 'baseline', 'ratio', 'target', 'result'];
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((h) => (['Flotilla', 'baseline', 'ratio'].includes(h) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => {
      const cells = [
        ...(withSuite ? [r.suite] : []),
        r.name,
        value(r.flotilla, r.unit),
        r.baseline === null ? '-' : `${value(r.baseline, r.unit)} (${r.baselineName ?? ''})`,
        r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
        r.target ?? '-',
        resultText(r),
      ];
      return `| ${cells.map(cell).join(' | ')} |`;
    }),
  ];
}

const SECTIONS: Record<string, string> = {
  http: 'HTTP: the kit against bare Express and the observable stacks',
  'make dev': '`make dev`: start-up and memory of the whole stack',
  shop: 'The shop under load, through the gateway',
  consumer: 'Consuming messages',
  publish: 'Publishing messages',
  ready: 'Start-up of one service',
  synth: 'Synth at scale',
};

/** The markdown and the charts of a results file. */
export function renderDocs(results: Results, chartsDir: string): { markdown: string; charts: Chart[] } {
  const made = charts(results);
  const load = (l: readonly number[]) => l.map((n) => n.toFixed(1)).join(' / ');
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated from bench-results.json by e2e/bench/report/docs.ts (make bench, make bench-docs): do not edit. -->',
    '',
    `Measured by ${results.smoke ? '`make bench-smoke`' : '`make bench`'} on ${results.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}, Node ${results.node}, ` +
      `${results.machine.cores} × ${results.machine.cpu}, ${results.machine.memoryGiB} GiB, ${results.machine.platform}; ` +
      `load average (1 / 5 / 15 min) ${load(results.loadAverage.start)} at the start and ` +
      `${load(results.loadAverage.end)} at the end; ${Math.round(results.seconds / 60)} minutes.`,
    '',
  ];
  if (results.smoke)
    lines.push(
      '> **Smoke run.** Every suite ran with tiny durations to check that the harness works; these numbers are',
      '> not measurements. A full `make bench` on a quiet machine replaces them.',
      '',
    );
  if (results.failedSuites.length > 0)
    lines.push(
      `> Suites that failed to run, whose rows are missing: ${results.failedSuites.join(', ')}.`,
      '',
    );
  lines.push(
    'Every ratio compares the Flotilla side with a baseline measured in the same run, the two alternating;',
    'values are medians of the rounds. How each suite measures, and its knobs: [e2e/bench/README.md](../e2e/bench/README.md).',
    '',
    '## Targets',
    '',
    ...table(
      results.rows.filter((r) => r.target !== null),
      true,
    ),
    '',
  );
  const suites = [...new Set(results.rows.map((r) => r.suite))];
  for (const suite of suites) {
    lines.push(`## ${SECTIONS[suite] ?? suite}`, '');
    for (const c of made.filter((x) => x.suite === suite))
      lines.push(`![${c.alt}](${basename(chartsDir)}/${c.file})`, '');
    lines.push(...table(results.rows.filter((r) => r.suite === suite)), '');
  }
  lines.push('## Notes', '', 'What is behind each row: samples, settings, caveats.', '');
  for (const suite of suites) {
    lines.push(`<details><summary>${SECTIONS[suite] ?? suite}</summary>`, '');
    for (const r of results.rows.filter((x) => x.suite === suite && x.note))
      lines.push(`- **${cell(r.name)}**: ${r.note}`);
    lines.push('', '</details>', '');
  }
  return { markdown: `${lines.join('\n').trimEnd()}\n`, charts: made };
}

/** Writes `markdownFile` and its charts (into a directory named like it, without `.md`). */
export function writeDocs(results: Results, markdownFile: string): void {
  const chartsDir = markdownFile.replace(/\.md$/, '');
  const { markdown, charts: made } = renderDocs(results, chartsDir);
  mkdirSync(chartsDir, { recursive: true });
  for (const c of made) writeFileSync(join(chartsDir, c.file), `${c.svg}\n`);
  mkdirSync(dirname(markdownFile), { recursive: true });
  writeFileSync(markdownFile, markdown);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const [input = join(repo, 'bench-results.json'), output = join(repo, 'docs/benchmarks.md')] =
    process.argv.slice(2);
  writeDocs(JSON.parse(readFileSync(input, 'utf8')) as Results, resolve(output));
  console.log(`wrote ${output} from ${input}`);
}
