/**
 * Which fault scenarios run in `make test`.
 *
 * A scenario (or one of its tests) listed in {@link AWAITING_RUNTIME_FIXES} fails on main because of a
 * runtime defect of issue 11, fixed on its own branch: it is reported as skipped, with the defect named,
 * until its entry is deleted here (when the fix is merged). `FLOTILLA_FAULTS=all` runs every listed one
 * anyway, to see where things stand.
 */
import { describe, test } from '@jest/globals';

export const AWAITING_RUNTIME_FIXES: Readonly<Record<string, string>> = {
  S5: "defect 8: failed receives fail orders' readiness, so the gateway (as a Service would) stops sending it requests",
};

const RUN_ALL = process.env.FLOTILLA_FAULTS === 'all';

/** Why `id` does not run now, if it does not. */
function awaiting(id: string): string | undefined {
  const reason = AWAITING_RUNTIME_FIXES[id];
  return reason !== undefined && !RUN_ALL ? reason : undefined;
}

/** A scenario: skipped as a whole (its stack is not even started) while it awaits a runtime fix. */
export function describeScenario(id: string, title: string, body: () => void): void {
  const reason = awaiting(id);
  if (reason === undefined) return describe(`${id}: ${title}`, body);
  describe(`${id}: ${title}`, () => {
    test.skip(`awaits ${reason} (issue 11; FLOTILLA_FAULTS=all runs it)`, () => undefined);
  });
}

/** One test of a scenario that awaits a runtime fix of its own (see {@link AWAITING_RUNTIME_FIXES}). */
export function scenarioTest(id: string, title: string, fn: () => Promise<void>, timeoutMs: number): void {
  const reason = awaiting(id);
  if (reason === undefined) test(title, fn, timeoutMs);
  else test.skip(`${title} — awaits ${reason} (issue 11; FLOTILLA_FAULTS=all runs it)`, () => undefined);
}
