/**
 * Pauses a consumer's receiving while a dependency its handlers need is down, so an outage leaves the
 * queue's messages waiting in the queue — where it costs them nothing — instead of being received, failed
 * and counted towards their dead-lettering one after another.
 *
 * A handler failure that blames a dependency (see `failedDependency`) closes the gate. While closed, the
 * consumer's declared checks (e.g. its inbox's database) run with a growing pause (1 s, doubling, at most
 * `maxPauseMs`); once they pass — or after one pause when none is declared — the gate opens half-way: one
 * message at a time (a probe), until one is handled without a dependency failure. A probe that fails on a
 * dependency closes it again, with a longer pause. So a dependency that is down costs one receive per pause,
 * not one per message.
 */
import { sleep } from './backoff.js';
import { errorMessage, type Logger, type ReadinessCheck } from '../kit.js';

/** Options of a {@link DependencyGate}. */
export interface DependencyGateOptions {
  /** Checks of the dependencies the consumer's handlers need, by name. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** First pause in milliseconds; doubles for each pause in a row. */
  readonly basePauseMs: number;
  /** Longest pause in milliseconds. */
  readonly maxPauseMs: number;
  /** Each check fails when it takes longer than this. */
  readonly checkTimeoutMs: number;
  readonly log: Logger;
  /** Told whenever the gate closes or opens (for metrics). */
  readonly onChange?: (closed: boolean) => void;
}

/** Why the gate is closed. */
export interface GateClosure {
  readonly dependency: string;
  readonly reason: string;
  /** `Date.now()` when it closed. */
  readonly since: number;
}

export class DependencyGate {
  readonly #o: DependencyGateOptions;
  #closure: GateClosure | undefined;
  #probing = false;
  /** Pauses in a row without a message handled in between. */
  #pauses = 0;
  #opened: Promise<void> = Promise.resolve();
  #open: () => void = () => undefined;
  #stopped = new AbortController();

  constructor(options: DependencyGateOptions) {
    this.#o = options;
  }

  /** Why receiving is paused, or undefined while it is not. */
  get closure(): GateClosure | undefined {
    return this.#closure;
  }

  /** True after a pause until a message is handled without a dependency failure: receive one at a time. */
  get probing(): boolean {
    return this.#probing;
  }

  /** Resolves when receiving may go on (at once while open; on stop). */
  whenOpen(): Promise<void> {
    return this.#opened;
  }

  /** A handler failed because `dependency` is down: pause receiving (or keep pausing). */
  close(dependency: string, reason: string): void {
    if (this.#stopped.signal.aborted) return;
    this.#probing = false;
    if (this.#closure !== undefined) return;
    this.#closure = { dependency, reason, since: Date.now() };
    this.#opened = new Promise((resolve) => (this.#open = resolve));
    this.#o.log.warn(
      { dependency, reason, pauseMs: this.#pauseMs() },
      `dependency ${dependency} unavailable: receiving paused until it is back`,
    );
    this.#o.onChange?.(true);
    void this.#waitForRecovery();
  }

  /** A message was handled, or failed for a reason of its own: the dependencies are up. */
  succeeded(): void {
    this.#pauses = 0;
    if (this.#probing) {
      this.#probing = false;
      this.#o.log.info('a message was handled again: receiving at full concurrency');
    }
  }

  /** The first declared check that fails now, with its reason; undefined when all pass (or none is declared). */
  async failingCheck(): Promise<{ readonly dependency: string; readonly reason: string } | undefined> {
    for (const [dependency, check] of Object.entries(this.#o.checks)) {
      try {
        await withTimeout(Promise.resolve().then(check), this.#o.checkTimeoutMs);
      } catch (err) {
        return { dependency, reason: errorMessage(err) };
      }
    }
    return undefined;
  }

  /** Opens the gate for good and ends any pause (on stop). */
  stop(): void {
    this.#stopped.abort();
    this.#closure = undefined;
    this.#probing = false;
    this.#open();
  }

  #pauseMs(): number {
    return Math.min(this.#o.maxPauseMs, this.#o.basePauseMs * 2 ** this.#pauses);
  }

  async #waitForRecovery(): Promise<void> {
    for (;;) {
      const pauseMs = this.#pauseMs();
      this.#pauses++;
      await sleep(pauseMs, this.#stopped.signal);
      if (this.#stopped.signal.aborted) return;
      const failing = await this.failingCheck();
      if (failing === undefined) break;
      this.#o.log.info(
        { dependency: failing.dependency, reason: failing.reason, nextCheckMs: this.#pauseMs() },
        'dependency still unavailable; receiving stays paused',
      );
    }
    const closure = this.#closure;
    this.#closure = undefined;
    this.#probing = true;
    this.#o.log.info(
      { dependency: closure?.dependency, pausedMs: closure ? Date.now() - closure.since : 0 },
      'receiving again, one message at a time until one is handled',
    );
    this.#o.onChange?.(false);
    this.#open();
  }
}

async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
