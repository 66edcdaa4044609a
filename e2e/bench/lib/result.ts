/**
 * One line of the summary table, and how a suite hands its lines to the runner.
 *
 * Suites run in their own child process (so one suite's heap, loaded modules and timers never skew the
 * next) and report their rows as one JSON line prefixed with {@link RESULT_PREFIX} on stdout.
 */

/** How a row is judged against its target. */
export type Target =
  /** subject / baseline must be at least `ratio` (throughput: higher is better). */
  | { readonly kind: 'min-ratio'; readonly ratio: number }
  /** subject / baseline must be at most `ratio` (latency: lower is better). */
  | { readonly kind: 'max-ratio'; readonly ratio: number }
  /** subject must be at most `value` (absolute, in the row's unit). */
  | { readonly kind: 'max-value'; readonly value: number }
  /** Reported for context only. */
  | { readonly kind: 'info' };

export interface Row {
  readonly suite: string;
  readonly name: string;
  readonly unit: string;
  /** Measured in the same run as the subject; undefined when the target is absolute and no baseline fits. */
  readonly baseline: number | undefined;
  readonly subject: number;
  readonly target: Target;
  /** Free text: samples, settings, caveats. */
  readonly note?: string;
}

export const RESULT_PREFIX = 'BENCH-RESULT ';

export function ratioOf(row: Row): number | undefined {
  return row.baseline === undefined || row.baseline === 0 ? undefined : row.subject / row.baseline;
}

/** True when the row meets its target, undefined for rows without one. */
export function passes(row: Row): boolean | undefined {
  const ratio = ratioOf(row);
  switch (row.target.kind) {
    case 'min-ratio':
      return ratio !== undefined && ratio >= row.target.ratio;
    case 'max-ratio':
      return ratio !== undefined && ratio <= row.target.ratio;
    case 'max-value':
      return row.subject <= row.target.value;
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
    case 'info':
      return '-';
  }
}

/** Suites call this once, at the end, with every row they measured. */
export function report(rows: readonly Row[]): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(rows)}\n`);
}
