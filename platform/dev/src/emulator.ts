/**
 * The in-process SQS/SNS emulator (fauxqs), bound to 127.0.0.1 only.
 */
import { EMULATOR_QUEUE_HOST } from '@flotilla/model';
import { buildApp } from 'fauxqs';

/** A running emulator. */
export interface Emulator {
  /** `http://127.0.0.1:<port>`: the `messagingEndpoint` of the local environment. */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. @default 4566 */
  readonly port?: number;
  /** Region for requests that carry none (the local environment's region). @default 'us-east-1' */
  readonly region?: string;
}

/**
 * Starts fauxqs on 127.0.0.1.
 *
 * Why not `startFauxqs`: it listens on every interface. fauxqs identifies a queue by one exact URL,
 * `http://sqs.<region>.localhost:<port>/<account>/<name>`, which is the URL the model's `queueUrl` computes
 * for an emulator (host `EMULATOR_QUEUE_HOST`), so the queues created here are the ones `envFor` names.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? 'us-east-1';
  const app = buildApp({ logger: false, host: EMULATOR_QUEUE_HOST, defaultRegion: region });
  let port = options.port ?? 4566;
  try {
    await app.listen({ port, host: '127.0.0.1' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(
        `SQS/SNS emulator: port ${port} on 127.0.0.1 is in use (another make dev, or LocalStack?). ` +
          'Stop that process or choose another port with FLOTILLA_EMULATOR_PORT=<port>.',
        { cause: err },
      );
    }
    throw err;
  }
  const address = app.server.address();
  if (address && typeof address === 'object') port = address.port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await app.close();
    },
  };
}
