/**
 * One supervised service process: started, its output forwarded line by line, restarted with backoff
 * when it crashes, and given up on (loudly) after too many rapid crashes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** When and how often a crashed process is restarted. */
export interface RestartPolicy {
  /** Delay before the first restart; doubles with each rapid crash. @default 500 */
  readonly initialDelayMs?: number;
  /** @default 10000 */
  readonly maxDelayMs?: number;
  /** A crash within this long of the start counts as rapid. @default 15000 */
  readonly rapidCrashWindowMs?: number;
  /** Consecutive rapid crashes after which the process is not restarted again. @default 5 */
  readonly maxRapidCrashes?: number;
}

/** What happened to a supervised process, for the stack's report and stack.json. */
export type SupervisorEvent =
  | { readonly kind: 'started'; readonly pid: number; readonly attempt: number }
  | {
      readonly kind: 'crashed';
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly restartInMs: number;
    }
  | {
      readonly kind: 'gave-up';
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly crashes: number;
    }
  | { readonly kind: 'stopped' };

export interface SupervisedProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the child (nothing is inherited implicitly). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly restart?: RestartPolicy;
  /** Each line the child writes. */
  readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  readonly onEvent: (event: SupervisorEvent) => void;
}

export type ProcessState = 'running' | 'restarting' | 'failed' | 'stopped';

export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private rapidCrashes = 0;
  private attempt = 0;
  private startedAt = 0;
  private exited: Promise<void> = Promise.resolve();
  private _state: ProcessState = 'stopped';
  private readonly policy: Required<RestartPolicy>;

  constructor(private readonly options: SupervisedProcessOptions) {
    this.policy = {
      initialDelayMs: options.restart?.initialDelayMs ?? 500,
      maxDelayMs: options.restart?.maxDelayMs ?? 10_000,
      rapidCrashWindowMs: options.restart?.rapidCrashWindowMs ?? 15_000,
      maxRapidCrashes: options.restart?.maxRapidCrashes ?? 5,
    };
  }

  /** Process id of the running child, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get state(): ProcessState {
    return this._state;
  }

  /** Starts the process (once; restarts are the supervisor's job). */
  start(): void {
    this.stopping = false;
    this.spawnChild();
  }

  private spawnChild(): void {
    const { command, args, env, cwd } = this.options;
    const child = spawn(command, [...args], { env: { ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.attempt++;
    this.startedAt = Date.now();
    this._state = 'running';
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream], crlfDelay: Infinity }).on('line', (line) =>
        this.options.onLine(line, stream),
      );
    }
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        resolve();
        this.onExit(code, signal);
      });
    });
    child.on('error', (err) => this.options.onLine(`cannot start ${command}: ${err.message}`, 'stderr'));
    if (child.pid !== undefined)
      this.options.onEvent({ kind: 'started', pid: child.pid, attempt: this.attempt });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) {
      this._state = 'stopped';
      this.options.onEvent({ kind: 'stopped' });
      return;
    }
    const rapid = Date.now() - this.startedAt < this.policy.rapidCrashWindowMs;
    this.rapidCrashes = rapid ? this.rapidCrashes + 1 : 1;
    if (this.rapidCrashes >= this.policy.maxRapidCrashes) {
      this._state = 'failed';
      this.options.onEvent({ kind: 'gave-up', code, signal, crashes: this.rapidCrashes });
      return;
    }
    const delay = Math.min(this.policy.initialDelayMs * 2 ** (this.rapidCrashes - 1), this.policy.maxDelayMs);
    this._state = 'restarting';
    this.options.onEvent({ kind: 'crashed', code, signal, restartInMs: delay });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopping) this.spawnChild();
    }, delay);
  }

  /**
   * Stops the process: SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. Cancels a
   * pending restart. Resolves when the process is gone.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this._state = 'stopped';
      return;
    }
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(killer);
  }
}
