/**
 * Child processes for benchmarks: TypeScript children run through tsx, with workspace packages from their
 * sources (`--conditions=flotilla-source --import tsx`, as `make` targets run) or compiled (`sources: false`,
 * as images run them); both sides of a ratio target are started alike, so they pay the same costs.
 * Children talk back over the IPC channel, not stdout: a service's stdout is its log destination and goes
 * to a file, as in production (never a pipe the parent would have to drain, never a TTY).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (e2e/bench/lib -> ../../..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const SOURCE_CONDITION = '--conditions=flotilla-source';
/** node arguments that run a TypeScript entry from sources, like `make` targets do. */
export const TS_NODE_ARGS = [SOURCE_CONDITION, '--import', 'tsx'];

export interface SpawnOptions {
  /** Extra node arguments before the entry (e.g. `--import @flotilla/runtime/telemetry`, `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  readonly args?: readonly string[];
  /** The child's whole environment (nothing is inherited but PATH and HOME). */
  readonly env?: Record<string, string>;
  /** File that receives the child's stdout. @default '/dev/null' */
  readonly stdoutFile?: string;
  /**
   * Resolve workspace packages to their TypeScript sources (the `flotilla-source` condition). Off, they
   * resolve to their compiled `dist/` output, as in a container image; with an entry from
   * `compileEntry` (./compile.ts), tsx is not loaded at all. @default true
   */
  readonly sources?: boolean;
  /** Forward the child's stderr to ours (errors must stay visible). @default true */
  readonly inheritStderr?: boolean;
  /**
   * A program, with its arguments, that runs node and the rest of the command line (e.g. valgrind).
   * @default - node runs directly
   */
  readonly wrapper?: readonly string[];
}

export interface Child {
  readonly process: ChildProcess;
  /** Resolves with the first IPC message that satisfies `predicate`; rejects if the child exits first. */
  message<T>(predicate: (m: unknown) => m is T, timeoutMs?: number): Promise<T>;
  /** Resolves with the exit code (or signal name) when the child ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** node arguments for an entry: tsx for TypeScript or sources; none for a compiled entry on compiled packages. */
function loaderArgs(entry: string, sources: boolean): readonly string[] {
  if (!entry.endsWith('.ts') && !sources) return [];
  return sources ? TS_NODE_ARGS : TS_NODE_ARGS.filter((a) => a !== SOURCE_CONDITION);
}

export function spawnTs(entry: string, options: SpawnOptions = {}): Child {
  const out = openSync(options.stdoutFile ?? '/dev/null', 'a');
  // node itself, or the wrapper that runs it.
  const [program = process.execPath, ...programArgs] = [...(options.wrapper ?? []), process.execPath];
  const child = spawn(
    program,
    [
      ...programArgs,
      ...loaderArgs(entry, options.sources !== false),
      ...(options.nodeArgs ?? []),
      entry,
      ...(options.args ?? []),
    ],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', out, options.inheritStderr === false ? 'ignore' : 'inherit', 'ipc'],
    },
  );
  closeSync(out);
  const exited = new Promise<number | string>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown')),
  );
  return {
    process: child,
    exited,
    message<T>(predicate: (m: unknown) => m is T, timeoutMs = 60_000): Promise<T> {
      return new Promise<T>((resolveMessage, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`${entry}: no message within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const onMessage = (m: unknown) => {
          if (predicate(m)) finish(undefined, m);
        };
        const onExit = (code: number | null, signal: string | null) =>
          finish(new Error(`${entry} exited (${code ?? signal}) before it reported`));
        const finish = (err: Error | undefined, value?: T) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolveMessage(value as T);
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
      });
    },
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Type guard factory for `{ type: <name>, ... }` IPC messages. */
export function isMessage<T extends { type: string }>(type: T['type']) {
  return (m: unknown): m is T =>
    typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;
}

/** Sends a message to the parent, if there is one (suites also run standalone). */
export function tellParent<T extends { readonly type: string }>(message: T): void {
  process.send?.(message);
}

/**
 * `KEY=VALUE` arguments as variables, split at the first `=` only: a value may hold `=` itself
 * (`NODE_OPTIONS=--max-semi-space-size=16`). Empty arguments are skipped.
 */
export function variablesOf(pairs: readonly string[]): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const pair of pairs) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`${JSON.stringify(pair)} is not KEY=VALUE`);
    variables[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return variables;
}
