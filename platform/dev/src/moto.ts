/**
 * moto's server: a second, independent implementation of the AWS APIs the platform uses (X-Ray,
 * CloudWatch Logs, SQS, SNS, Cloud Map), so behaviour is not only what one emulator does. It is a Python
 * program, installed once per version by `scripts/moto.sh` (which prints its path); tests start one per
 * suite on a free loopback port.
 * @see https://docs.getmoto.org/en/latest/docs/server_mode.html
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePorts, waitUntilReady } from './ports.js';

/** Options of {@link startMoto}. */
export interface MotoOptions {
  /** The `moto_server` executable. @default FLOTILLA_MOTO_SERVER (what `scripts/moto.sh` prints) */
  readonly command?: string;
  /** The region clients use; moto serves every region. @default 'us-east-1' */
  readonly region?: string;
  /** How long the server has to answer. @default 30000 */
  readonly readyTimeoutMs?: number;
}

/** A running moto server. */
export interface Moto {
  /** `http://127.0.0.1:<port>`: the endpoint of every service (moto routes by the request). */
  readonly endpoint: string;
  readonly region: string;
  /** Credentials moto accepts (any are; these are obviously fake). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** What the server printed, for a failure message. */
  output(): string;
  /** Stops the server (SIGTERM, SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/** Starts moto's server on a free loopback port and resolves once it answers. */
export async function startMoto(options: MotoOptions = {}): Promise<Moto> {
  const command = options.command ?? process.env.FLOTILLA_MOTO_SERVER;
  if (!command) {
    throw new Error(
      "moto's server is not configured: set FLOTILLA_MOTO_SERVER to the moto_server that `scripts/moto.sh` " +
        'installs and prints (e.g. FLOTILLA_MOTO_SERVER=$(scripts/moto.sh)).',
    );
  }
  const [port] = (await freePorts(1)) as [number];
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 200));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exited = `could not start ${command}: ${err.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exited ??= `moto_server exited (${signal ?? `code ${code}`})`;
      resolve();
    });
  });
  const stop = stopper(child, exit);
  try {
    await waitUntilReady(`${endpoint}/moto-api/data.json`, {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      abort: () => exited,
    });
  } catch (err) {
    await stop();
    throw new Error(`moto's server did not start: ${(err as Error).message}\n${lines.join('\n')}`, {
      cause: err,
    });
  }
  return {
    endpoint,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: 'moto-test', secretAccessKey: 'moto-test' },
    output: () => lines.join('\n'),
    stop,
  };
}

function stopper(child: ChildProcess, exit: Promise<void>): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    })());
}
