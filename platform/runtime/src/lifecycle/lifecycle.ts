import { errorMessage, type Lifecycle, type StopHook } from '../kit.js';

/** Something to do before the service takes traffic (migrations, starting consumers). */
export type StartHook = () => Promise<void> | void;

/** A stop hook that failed or did not finish in time. */
export interface HookFailure {
  readonly name: string;
  /** `failed` (threw), `unfinished` (still running at the deadline) or `not-run` (never reached). */
  readonly state: 'failed' | 'unfinished' | 'not-run';
  readonly error?: unknown;
}

/**
 * Start and stop hooks of a service. Start hooks run in registration order before the server listens;
 * stop hooks run one after another in reverse registration order (last started, first stopped).
 */
export class ServiceLifecycle implements Lifecycle {
  readonly #start: { name: string; hook: StartHook }[] = [];
  readonly #stop: { name: string; hook: StopHook }[] = [];
  #running: string | undefined;
  #done = new Set<string>();
  #failed = new Map<string, unknown>();

  onStart(name: string, hook: StartHook): void {
    this.#start.push({ name, hook });
  }

  onStop(name: string, hook: StopHook): void {
    if (this.#stop.some((h) => h.name === name)) {
      throw new Error(`Stop hook "${name}" is already registered; give each hook a unique name.`);
    }
    this.#stop.push({ name, hook });
  }

  /** Names of the stop hooks, in the order they will run. */
  get stopOrder(): string[] {
    return this.#stop.map((h) => h.name).reverse();
  }

  async runStartHooks(): Promise<void> {
    for (const { name, hook } of this.#start) {
      try {
        await hook();
      } catch (err) {
        throw new Error(`Start hook "${name}" failed: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    }
  }

  /** Runs the stop hooks in reverse order; a failing hook is recorded and the next one still runs. */
  async runStopHooks(onError: (name: string, err: unknown) => void): Promise<void> {
    for (const { name, hook } of [...this.#stop].reverse()) {
      this.#running = name;
      try {
        await hook();
      } catch (err) {
        this.#failed.set(name, err);
        onError(name, err);
      }
      this.#done.add(name);
      this.#running = undefined;
    }
  }

  /** Hooks that failed, are still running or never ran (for the deadline log line). */
  failures(): HookFailure[] {
    const out: HookFailure[] = [];
    for (const name of this.stopOrder) {
      if (this.#failed.has(name)) out.push({ name, state: 'failed', error: this.#failed.get(name) });
      else if (name === this.#running) out.push({ name, state: 'unfinished' });
      else if (!this.#done.has(name)) out.push({ name, state: 'not-run' });
    }
    return out;
  }
}
