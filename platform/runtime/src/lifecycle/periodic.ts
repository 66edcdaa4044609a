/**
 * A task a service runs on a timer: a sweep, a retry of work left behind, a retention round. Rounds never
 * overlap (a tick that finds one running is skipped), a failed round is logged and the next tick tries
 * again, and `stop()` ends the timer and waits for the round in flight, so the lifecycle closes the
 * database only after the last round that uses it.
 */
import type { Logger } from '../kit.js';

/** Options of {@link startPeriodicTask}. */
export interface PeriodicTaskOptions<T> {
  /** What the task does, for its log lines (e.g. `reservation expiry`). */
  readonly name: string;
  /** Milliseconds between two ticks; the first tick comes one interval after the start. */
  readonly intervalMs: number;
  /**
   * One round. A round that loops over batches should check `stopping()` between two and return early
   * once it is true, so `stop()` does not wait for a long backlog.
   */
  readonly round: (stopping: () => boolean) => Promise<T>;
  /** Where a failed round is reported (as a warning: the next tick runs it again). */
  readonly log: Logger;
}

/** A running {@link startPeriodicTask}. */
export interface PeriodicTask<T> {
  /**
   * Runs a round now, after the round in flight if there is one (so it sees everything committed before
   * the call), and resolves with its result. Rejects when that round fails.
   */
  runNow(): Promise<T>;
  /** Stops the timer and waits for the round in flight. Idempotent. */
  stop(): Promise<void>;
}

/** Starts running `round` every `intervalMs`. The timer does not keep the process alive. */
export function startPeriodicTask<T>(options: PeriodicTaskOptions<T>): PeriodicTask<T> {
  const { name, log } = options;
  if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
    throw new Error(
      `${name}: intervalMs must be a positive number of milliseconds (got ${options.intervalMs}).`,
    );
  }
  let stopped = false;
  let inFlight: Promise<T> | undefined;
  const stopping = () => stopped;

  async function runNow(): Promise<T> {
    while (inFlight) await inFlight.catch(() => undefined);
    inFlight = options.round(stopping).finally(() => (inFlight = undefined));
    return inFlight;
  }

  const timer = setInterval(() => {
    if (stopped || inFlight) return;
    runNow().catch((err: unknown) =>
      log.warn({ err, task: name }, `${name} failed; it runs again at the next interval`),
    );
  }, options.intervalMs);
  timer.unref();

  let stoppingDone: Promise<void> | undefined;
  return {
    runNow,
    stop() {
      stoppingDone ??= (async () => {
        stopped = true;
        clearInterval(timer);
        while (inFlight) await inFlight.catch(() => undefined);
      })();
      return stoppingDone;
    },
  };
}
