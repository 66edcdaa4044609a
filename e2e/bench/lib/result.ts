/**
 * One row of the results, and how a suite hands its rows to the runner.
 *
 * Suites run in their own child process (so one suite's heap, loaded modules and timers never skew the
 * next) and report their rows as one JSON line prefixed with {@link RESULT_PREFIX} on stdout.
 */

/** How a row is judged against its target. */
export type Target =
  /** flotilla / baseline must be at least `ratio` (throughput: higher is better). */
  | { readonly kind: 'min-ratio'; readonly ratio: number }
  /** flotilla / baseline must be at most `ratio` (latency: lower is better). */
  | { readonly kind: 'max-ratio'; readonly ratio: number }
  /** flotilla must be at most `value` (absolute, in the row's unit). */
  | { readonly kind: 'max-value'; readonly value: number }
  /** flotilla must be at least `value` (absolute, in the row's unit). */
  | { readonly kind: 'min-value'; readonly value: number }
  /** Reported for context only. */
  | { readonly kind: 'info' };

/**
 * Where a row goes in docs/benchmarks.md's charts: the chart's id, the point's x value (a number of
 * services, a rate) and the series it belongs to. Bar charts of contenders take the row's two sides.
 */
export interface ChartPoint {
  readonly id: string;
  readonly x?: number;
  readonly series?: string;
}

export interface Row {
  readonly suite: string;
  readonly name: string;
  readonly unit: string;
  /** The Flotilla side's value (the kit, createConsumer, the charts, the shop). */
  readonly flotilla: number;
  /** Measured in the same run; undefined when the target is absolute and no baseline fits. */
  readonly baseline: number | undefined;
  /** What the baseline is (e.g. `bare Express 5`). */
  readonly baselineName?: string;
  readonly target: Target;
  /** Free text: samples, settings, caveats. */
  readonly note?: string;
  readonly chart?: ChartPoint;
}

export const RESULT_PREFIX = 'BENCH-RESULT ';

export function ratioOf(row: Pick<Row, 'flotilla' | 'baseline'>): number | undefined {
  return row.baseline === undefined || row.baseline === 0 ? undefined : row.flotilla / row.baseline;
}

/** True when the row meets its target, undefined for rows without one. */
export function passes(row: Pick<Row, 'flotilla' | 'baseline' | 'target'>): boolean | undefined {
  const ratio = ratioOf(row);
  switch (row.target.kind) {
    case 'min-ratio':
      return ratio !== undefined && ratio >= row.target.ratio;
    case 'max-ratio':
      return ratio !== undefined && ratio <= row.target.ratio;
    case 'max-value':
      return row.flotilla <= row.target.value;
    case 'min-value':
      return row.flotilla >= row.target.value;
    case 'info':
      return undefined;
  }
}

export function targetText(target: Target, unit: string): string {
  switch (target.kind) {
    case 'min-ratio':
      return `>= ${target.ratio}x`;
    case 'max-ratio':
      return `<= ${target.ratio}x`;
    case 'max-value':
      return `<= ${target.value} ${unit}`;
    case 'min-value':
      return `>= ${target.value} ${unit}`;
    case 'info':
      return '-';
  }
}

/** Suites call this once, at the end, with every row they measured. */
export function report(rows: readonly Row[]): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(rows)}\n`);
}

/** Whether the suite runs as the smoke (tiny durations: the harness works, the numbers mean little). */
export const SMOKE = process.env.BENCH_SMOKE === '1';

/** A numeric knob: the variable when set, else the smoke or the full default. */
export function knob(name: string, full: number, smoke: number = full): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return SMOKE ? smoke : full;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name}=${raw} is not a number`);
  return value;
}

/** A list knob (comma-separated numbers). */
export function listKnob(name: string, full: readonly number[], smoke: readonly number[] = full): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return [...(SMOKE ? smoke : full)];
  const values = raw.split(',').map(Number);
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`${name}=${raw} is not a list of numbers`);
  return values;
}
