/**
 * The in-process SQS/SNS emulator (fauxqs), bound to 127.0.0.1 only.
 */
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
 * Why not `startFauxqs`: it listens on every interface. And fauxqs identifies a queue by one exact URL,
 * `http://sqs.<region>.localhost:<port>/<account>/<name>`, while tools and older configurations spell it
 * `<endpoint>/<account>/<name>` (LocalStack style): a pre-handler rewrites any `<scheme>://<host>/<account>/<name>`
 * to fauxqs's form, so every spelling names the same queue.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? 'us-east-1';
  const app = buildApp({ logger: false, host: 'localhost', defaultRegion: region });
  let port = options.port ?? 4566;
  app.addHook('preHandler', async (request) => {
    const body = request.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || typeof body.QueueUrl !== 'string') return;
    body.QueueUrl = canonicalQueueUrl(body.QueueUrl, regionOf(request.headers.authorization) ?? region, port);
  });
  try {
    await app.listen({ port, host: '127.0.0.1' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(
        `SQS/SNS emulator: port ${port} on 127.0.0.1 is in use (another make dev, or LocalStack?). ` +
          'Stop that process or choose another port with FLOTILLA_EMULATOR_PORT=<port>.',
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

/** Region from a SigV4 `Authorization` header's credential scope (`Credential=AKID/date/region/svc/aws4_request`). */
function regionOf(authorization: string | undefined): string | undefined {
  return authorization?.match(/Credential=[^/]+\/[^/]+\/([^/]+)\//)?.[1];
}

/** `http://<any host>/<account>/<name>` -> `http://sqs.<region>.localhost:<port>/<account>/<name>`. */
function canonicalQueueUrl(url: string, region: string, port: number): string {
  const match = url.match(/^https?:\/\/[^/]+\/(\d{12})\/([^/?#]+)$/);
  if (!match) return url;
  return `http://sqs.${region}.localhost:${port}/${match[1]}/${match[2]}`;
}
