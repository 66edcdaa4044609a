/**
 * Runs a kit service in a child process (`node --import tsx <fixture>`), as a real deployment would run
 * it, so tests can send it signals and read its JSON log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const runtimeDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Path of a fixture service under test/support/fixtures. */
export function fixturePath(name: string): string {
  return resolve(runtimeDir, 'test/support/fixtures', name);
}

/** The variables every fixture needs (the subset of envFor a bare service reads). */
export function baseEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SERVICE_NAME: 'fixture',
    PORT: '0',
    FLOTILLA_ENVIRONMENT: 'test',
    LOG_LEVEL: 'info',
    SHUTDOWN_DRAIN_MS: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    OTEL_SDK_DISABLED: 'true',
    ...overrides,
  };
}

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildService {
  readonly child: ChildProcess;
  /** Parsed JSON log lines so far (stdout). */
  readonly logs: LogLine[];
  /** Non-JSON output (stdout and stderr), for failure messages. */
  readonly otherOutput: string[];
  /** Resolves when the process exits. */
  readonly exited: Promise<ChildExit>;
  /** Resolves with the first log line (past or future) matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal and resolves with the exit (kills with SIGKILL after `timeoutMs`). */
  signal(signal: NodeJS.Signals): void;
  kill(): Promise<ChildExit>;
}

export interface StartOptions {
  /** Load the telemetry preload (`--import @flotilla/runtime/telemetry`). @default false */
  readonly preload?: boolean;
}

/** Spawns a fixture; does not wait for it to listen (see {@link startChildService}). */
export function spawnChildService(
  fixture: string,
  env: Record<string, string>,
  options: StartOptions = {},
): ChildService {
  const args = ['--conditions=flotilla-source', '--import', 'tsx'];
  if (options.preload === true) args.push('--import', '@flotilla/runtime/telemetry');
  args.push(fixturePath(fixture));
  const child = spawn(process.execPath, args, {
    cwd: runtimeDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const otherOutput: string[] = [];
  const listeners = new Set<() => void>();
  const onLine = (line: string) => {
    if (line.trim() === '') return;
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      otherOutput.push(line);
    }
    for (const l of listeners) l();
  };
  lines(child.stdout, onLine);
  lines(child.stderr, (line) => otherOutput.push(line));
  // 'close', not 'exit': it fires after stdout and stderr are fully read, so no log line is missed.
  const exited = new Promise<ChildExit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => {
    done = true;
    for (const l of listeners) l();
  });

  return {
    child,
    logs,
    otherOutput,
    exited,
    waitForLog(predicate, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(predicate);
          if (found !== undefined) {
            finish();
            resolve(found);
          } else if (done) {
            finish();
            reject(new Error(`child exited before the expected log line. Logs:\n${dump(logs, otherOutput)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`expected log line not seen within ${timeoutMs} ms. Logs:\n${dump(logs, otherOutput)}`),
          );
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    signal(signal) {
      child.kill(signal);
    },
    async kill() {
      if (!done) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Spawns a fixture and waits until it logs that it listens; returns it with its URL. */
export async function startChildService(
  fixture: string,
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<ChildService & { url: string }> {
  const svc = spawnChildService(fixture, env, options);
  try {
    const line = await svc.waitForLog((l) => typeof l.url === 'string' && typeof l.port === 'number');
    return Object.assign(svc, { url: line.url as string });
  } catch (err) {
    await svc.kill();
    throw err;
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, at));
      buffer = buffer.slice(at + 1);
    }
  });
  stream.on('end', () => {
    if (buffer !== '') onLine(buffer);
  });
}

function dump(logs: LogLine[], other: string[]): string {
  return [...logs.map((l) => JSON.stringify(l)), ...other].join('\n').slice(-6000);
}
