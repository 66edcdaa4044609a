/**
 * moto's server for the runtime's tests: a second, independent implementation of SQS, SNS and Cloud Map,
 * so the kit's AWS-facing behaviour is not only what fauxqs does. `scripts/moto.sh` installs it and prints
 * its path; `make test` passes that as FLOTILLA_MOTO_SERVER.
 *
 * The runtime cannot import `startMoto` from @flotilla/dev (which depends on the runtime), so this starts
 * the server its own, smaller way: on port 0, reading the port from the line the server prints.
 * @see https://docs.getmoto.org/en/latest/docs/server_mode.html
 */
import { spawn } from 'node:child_process';

/** The `moto_server` executable, when configured. */
export const MOTO_SERVER = process.env.FLOTILLA_MOTO_SERVER;

/** moto's account when a request names none. @see https://docs.getmoto.org/en/latest/docs/multi_account.html */
export const MOTO_ACCOUNT_ID = '123456789012';

/** Credentials moto accepts (any are); obviously fake so the SDK never looks for real ones. */
export const MOTO_CREDENTIALS = { accessKeyId: 'moto-test', secretAccessKey: 'moto-test' } as const;

/** How to run the moto tier: `make test` does this. */
export const HOW_TO_RUN_MOTO =
  'export FLOTILLA_MOTO_SERVER=$(scripts/moto.sh) (it installs moto from PyPI once; make test does this)';

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: every service's endpoint (moto routes by the request). */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto's server on a free loopback port; rejects with its output when it does not come up. */
export async function startMotoServer(command = MOTO_SERVER): Promise<MotoServer> {
  if (!command) throw new Error(`moto's server is not configured: ${HOW_TO_RUN_MOTO}`);
  const child = spawn(command, ['-H', '127.0.0.1', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`moto_server printed no address in 30 s:\n${output}`)),
      30_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${command}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${signal ?? `code ${code}`}) before serving:\n${output}`));
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(kill);
      })()),
  };
}
