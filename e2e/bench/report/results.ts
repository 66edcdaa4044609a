/**
 * `bench-results.json`: every row of a run, with what it ran on. One entry per row: `name`, `unit`,
 * `flotilla` (the Flotilla side), `baseline` and `baselineName` (null for absolute rows), `ratio`
 * (flotilla / baseline), `target` (as text, null for information rows) and `pass` (null without a target).
 * docs/benchmarks.md is generated from this file alone (./docs.ts).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { passes, ratioOf, targetText, type ChartPoint, type Row } from '../lib/result.js';

export interface ResultEntry {
  readonly suite: string;
  readonly name: string;
  readonly unit: string;
  readonly flotilla: number | null;
  readonly baseline: number | null;
  readonly baselineName: string | null;
  readonly ratio: number | null;
  readonly target: string | null;
  readonly pass: boolean | null;
  readonly note?: string;
  readonly chart?: ChartPoint;
}

export interface Results {
  /** ISO time the run started. */
  readonly date: string;
  readonly node: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly platform: string;
  };
  /** 1, 5 and 15-minute load averages when the run started and when it ended. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  /** A smoke run: tiny durations, numbers that only show the harness works. */
  readonly smoke: boolean;
  readonly suites: readonly string[];
  /** Suites that failed to run (their rows are missing). */
  readonly failedSuites: readonly string[];
  readonly seconds: number;
  readonly rows: readonly ResultEntry[];
}

/** A finite number rounded for the file (NaN and infinities become null: JSON has neither). */
function num(value: number | undefined, digits = 2): number | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function toEntry(row: Row): ResultEntry {
  const ok = passes(row);
  return {
    suite: row.suite,
    name: row.name,
    unit: row.unit,
    flotilla: num(row.flotilla),
    baseline: num(row.baseline),
    baselineName: row.baseline === undefined ? null : (row.baselineName ?? null),
    ratio: num(ratioOf(row), 3),
    target: row.target.kind === 'info' ? null : targetText(row.target, row.unit),
    pass: ok === undefined ? null : ok,
    ...(row.note ? { note: row.note } : {}),
    ...(row.chart ? { chart: row.chart } : {}),
  };
}

const loads = () => loadavg().map((l) => num(l) ?? 0);

/** What the machine is now: call at the start of a run. */
export function runContext(): Pick<Results, 'date' | 'node' | 'machine'> & { loadAtStart: number[] } {
  return {
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      platform: `${process.platform}-${process.arch}`,
    },
    loadAtStart: loads(),
  };
}

export function results(
  context: ReturnType<typeof runContext>,
  run: { smoke: boolean; suites: string[]; failedSuites: string[]; seconds: number; rows: readonly Row[] },
): Results {
  return {
    date: context.date,
    node: context.node,
    machine: context.machine,
    loadAverage: { start: context.loadAtStart, end: loads() },
    smoke: run.smoke,
    suites: run.suites,
    failedSuites: run.failedSuites,
    seconds: Math.round(run.seconds),
    rows: run.rows.map(toEntry),
  };
}
