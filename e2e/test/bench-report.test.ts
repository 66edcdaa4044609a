/**
 * The benchmark harness's own logic, without running a benchmark: rows become bench-results.json entries,
 * docs/benchmarks.md and its charts come from those entries alone, and the smoke's check finds a missing
 * row or an insane number.
 */
import { describe, expect, it } from '@jest/globals';
import type { Row } from '../bench/lib/result.js';
import { smokeProblems } from '../bench/lib/smoke.js';
import { renderDocs } from '../bench/report/docs.js';
import { toEntry, type Results } from '../bench/report/results.js';

const httpRow = (series: string, name: string, kit: number, baseline: number): Row => ({
  suite: 'http',
  name: `${series}: kit throughput vs ${name}`,
  unit: 'req/s',
  flotilla: kit,
  baseline,
  baselineName: name,
  target: { kind: 'info' },
  chart: { id: 'http-throughput', series },
});

const rows: Row[] = [
  {
    suite: 'http',
    name: 'GET /api/items/:id: kit throughput vs bare Express',
    unit: 'req/s',
    flotilla: 12_000,
    baseline: 30_000,
    baselineName: 'bare Express 5',
    target: { kind: 'min-ratio', ratio: 0.5 },
    note: '3 rounds',
  },
  httpRow('GET /api/items/:id', 'Fastify 5 + pino + @fastify/otel', 12_000, 5000),
  httpRow('POST /api/items', 'Fastify 5 + pino + @fastify/otel', 8000, 4000),
  ...[100, 250].map((n): Row => ({
    suite: 'synth',
    name: `${n} services: render + validate vs bare cdk8s-plus`,
    unit: 'ms',
    flotilla: n * 3,
    baseline: n * 2,
    baselineName: 'bare cdk8s-plus',
    target: { kind: 'info' },
    chart: { id: 'synth', x: n },
  })),
  {
    suite: 'make dev',
    name: 'resident memory of the whole stack, idle',
    unit: 'MiB',
    flotilla: 2000,
    baseline: undefined,
    target: { kind: 'max-value', value: 1024 },
  },
];

function resultsOf(entries: readonly Row[], smoke = false): Results {
  return {
    date: '2026-12-07T01:00:00.000Z',
    node: 'v24.22.3',
    machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 24, platform: 'linux-x64' },
    loadAverage: { start: [0.5, 0.4, 0.3], end: [1.5, 0.9, 0.5] },
    smoke,
    suites: ['http', 'synth', 'shop'],
    failedSuites: [],
    seconds: 600,
    rows: entries.map(toEntry),
  };
}

describe('bench-results.json entries', () => {
  it('carry the ratio, the target as text and whether it passed', () => {
    const [target] = rows.map(toEntry);
    expect(target).toMatchObject({
      flotilla: 12_000,
      baseline: 30_000,
      baselineName: 'bare Express 5',
      ratio: 0.4,
      target: '>= 0.5x',
      pass: false,
    });
  });

  it('say null, not NaN, for what was not measured, and null for rows without a target', () => {
    const entry = toEntry({ ...(rows[0] as Row), flotilla: NaN, target: { kind: 'info' } });
    expect(entry).toMatchObject({ flotilla: null, ratio: null, target: null, pass: null });
    expect(JSON.parse(JSON.stringify(entry))).toMatchObject({ flotilla: null });
  });
});

describe('docs/benchmarks.md', () => {
  it('says when and where it was measured, lists the targets and marks a miss', () => {
    const { markdown } = renderDocs(resultsOf(rows), 'docs/benchmarks');
    expect(markdown).toContain('Node v24.22.3, 2 × Test CPU, 24 GiB');
    expect(markdown).toContain('load average (1 / 5 / 15 min) 0.5 / 0.4 / 0.3 at the start');
    expect(markdown).toMatch(
      /\| http \| GET \/api\/items\/:id: kit throughput vs bare Express \| 12,000 req\/s \| 30,000 req\/s \(bare Express 5\) \| 0\.40x \| >= 0\.5x \| \*\*MISS\*\* \|/,
    );
    expect(markdown).toMatch(
      /resident memory of the whole stack, idle \| 2,000 MiB \| - \| - \| <= 1024 MiB \| \*\*MISS\*\*/,
    );
    expect(markdown).not.toContain('Smoke run');
    expect(renderDocs(resultsOf(rows, true), 'docs/benchmarks').markdown).toContain('**Smoke run.**');
  });

  it('draws the HTTP contenders side by side and synth time against services, and links both', () => {
    const { markdown, charts } = renderDocs(resultsOf(rows), 'docs/benchmarks');
    expect(charts.map((c) => c.file).sort()).toEqual(['http-throughput.svg', 'synth.svg']);
    const http = charts.find((c) => c.file === 'http-throughput.svg')?.svg ?? '';
    expect(http).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const label of [
      'Flotilla kit',
      'Fastify 5 + pino + @fastify/otel',
      'GET /api/items/:id',
      'POST /api/items',
      '12,000',
      '4,000',
    ])
      expect(http).toContain(label);
    expect(charts.find((c) => c.file === 'synth.svg')?.svg).toContain('bare cdk8s-plus');
    expect(markdown).toContain('![HTTP throughput of every contender](benchmarks/http-throughput.svg)');
    expect(markdown).toContain('![synth time against the number of services](benchmarks/synth.svg)');
  });
});

describe('the smoke check', () => {
  const synthOnly = rows.filter((r) => r.suite === 'synth').map(toEntry);

  it('passes a suite that produced its rows with sane numbers', () => {
    expect(smokeProblems(synthOnly, ['synth'])).toEqual([]);
  });

  it('names a suite that produced none of its rows', () => {
    expect(smokeProblems([], ['synth'])).toEqual([
      'synth: no row matching /^\\d+ services: render \\+ validate vs bare cdk8s-plus$/',
    ]);
  });

  it('names a value that is not a number or out of range', () => {
    const broken = [
      { ...(synthOnly[0] as ReturnType<typeof toEntry>), flotilla: null },
      { ...(synthOnly[1] as ReturnType<typeof toEntry>), baseline: -3 },
    ];
    expect(smokeProblems(broken, ['synth'])).toEqual([
      'synth / 100 services: render + validate vs bare cdk8s-plus: the Flotilla value is not a number',
      'synth / 250 services: render + validate vs bare cdk8s-plus: the baseline (bare cdk8s-plus) -3 ms is outside [0, 600000]',
    ]);
  });

  it('wants every row of every shop rate it reports', () => {
    const shopRow = (name: string) =>
      toEntry({
        suite: 'shop',
        name,
        unit: 'orders/s',
        flotilla: 5,
        baseline: undefined,
        target: { kind: 'info' },
      });
    const problems = smokeProblems([shopRow('5 orders/s: orders accepted per second')], ['shop']);
    expect(problems).toContain('shop: no row matching /^5 orders\\/s: POST \\/api\\/orders p99$/');
    expect(problems).toContain('make dev: no row matching /^time to ready, warm/');
  });
});
