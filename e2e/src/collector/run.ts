/**
 * Runs a built collector on loopback for a test: its configuration files are merged in order (later
 * files override earlier ones, lists are replaced, as `--config` does), and it is ready when its
 * health_check extension answers.
 * @see https://opentelemetry.io/docs/collector/configuration/#configuration-merging
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { waitUntilReady } from '@flotilla/dev';

/** A running collector. */
export interface RunningCollector {
  /** Everything it printed so far (its logs, the debug exporter's output). */
  output(): string;
  /** SIGTERM (the collector flushes its exporters on shutdown), SIGKILL after 15 s. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startCollector}. */
export interface StartCollectorOptions {
  readonly binary: string;
  /** Configurations, merged in order: the emitted one first, then the test's overrides. */
  readonly configs: readonly (string | Record<string, unknown>)[];
  /** The health_check endpoint the configs set, `http://127.0.0.1:<port>/`. */
  readonly healthUrl: string;
  /** Environment of the process (besides PATH). @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 30000 */
  readonly readyTimeoutMs?: number;
}

/** Writes the configurations to a temporary directory and starts the collector on them. */
export async function startCollector(options: StartCollectorOptions): Promise<RunningCollector> {
  const dir = await mkdtemp(join(tmpdir(), 'otelcol-'));
  const args: string[] = [];
  for (const [i, config] of options.configs.entries()) {
    const file = join(dir, `config-${i}.yaml`);
    await writeFile(file, typeof config === 'string' ? config : stringify(config));
    args.push(`--config=file:${file}`);
  }
  const child = spawn(options.binary, args, {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exited = err.message;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exited ??= `the collector exited (${signal ?? `code ${code}`})`;
      resolve();
    });
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    })());
  try {
    await waitUntilReady(options.healthUrl, {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      abort: () => exited,
    });
  } catch (err) {
    await stop();
    throw new Error(`the collector did not become ready: ${(err as Error).message}\n${output.slice(-6000)}`, {
      cause: err,
    });
  }
  return { output: () => output, stop };
}

/** Runs `<binary> <args>` to its end: exit code and combined output. */
export function runCollectorCommand(
  binary: string,
  args: readonly string[],
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}
