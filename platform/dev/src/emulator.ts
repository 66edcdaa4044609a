/**
 * The in-process SQS/SNS emulator (fauxqs), bound to 127.0.0.1 only, with the two faults the fault suite
 * injects into messaging: the emulator unreachable (its listener closed, every connection dropped, its
 * queues and messages kept), and every message delivered twice.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { EMULATOR_QUEUE_HOST } from '@flotilla/model';
import { buildApp } from 'fauxqs';

/** A running emulator. */
export interface Emulator {
  /** `http://127.0.0.1:<port>`: the `messagingEndpoint` of the local environment. */
  readonly endpoint: string;
  readonly port: number;
  /**
   * Makes the emulator unreachable, as an SQS/SNS outage does: stops accepting connections (clients get
   * ECONNREFUSED) and drops the open ones (long polls in flight end without an answer; the messages they had
   * taken reappear when their visibility timeout ends, as on SQS). Queues, messages and subscriptions are kept.
   * Idempotent.
   */
  disconnect(): Promise<void>;
  /** Listens again on the same port after {@link Emulator.disconnect}. Idempotent. */
  reconnect(): Promise<void>;
  /**
   * While on, every message is delivered twice, as SQS's at-least-once delivery may do: each SendMessage,
   * SendMessageBatch, Publish and PublishBatch that succeeded is repeated once more (same body and
   * attributes, a new message id), after a random delay of up to `maxDelayMs`. `false` turns it off.
   */
  duplicateDeliveries(options: false | { readonly maxDelayMs?: number }): void;
  /** Messages delivered a second time by {@link Emulator.duplicateDeliveries} so far (batch entries count one each). */
  readonly duplicatedMessages: number;
  /**
   * Repeats scheduled by {@link Emulator.duplicateDeliveries} and not yet on their queue (waiting out their
   * delay, or being sent). A queue that looks empty while this is above 0 is about to receive a copy.
   */
  readonly pendingDuplicates: number;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. @default 4566 */
  readonly port?: number;
  /** Region for requests that carry none (the local environment's region). @default 'us-east-1' */
  readonly region?: string;
}

/** The actions that put a message on a queue (directly, or through a topic's subscriptions). */
const SQS_SENDS = new Set(['AmazonSQS.SendMessage', 'AmazonSQS.SendMessageBatch']);
const SNS_SENDS = new Set(['Publish', 'PublishBatch']);
/** Marks the repeated request, so that it is not repeated again. */
const COPY_HEADER = 'x-flotilla-duplicate';

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
  let duplicate: { maxDelayMs: number } | undefined;
  let duplicated = 0;
  const copies = new Set<NodeJS.Timeout>();
  let sending = 0;
  // The repeat is injected in-process (no socket), so it is delivered even while the listener is closed.
  app.addHook('onResponse', (request, reply, done) => {
    if (duplicate && reply.statusCode === 200 && isSend(request.headers, request.body)) {
      const timer = setTimeout(
        () => {
          copies.delete(timer);
          sending += 1;
          void app
            .inject({
              method: 'POST',
              url: request.url,
              headers: { ...forwardable(request.headers), [COPY_HEADER]: '1' },
              payload: serialize(request.headers, request.body),
            })
            .then((copy) => {
              if (copy.statusCode === 200) duplicated += messageCount(request.headers, request.body);
            })
            .catch(() => undefined)
            .finally(() => (sending -= 1));
        },
        Math.round(Math.random() * duplicate.maxDelayMs),
      );
      copies.add(timer);
    }
    done();
  });

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

  const server = app.server;
  const disconnect = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  const reconnect = async (): Promise<void> => {
    if (server.listening) return;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    disconnect,
    reconnect,
    duplicateDeliveries(settings) {
      duplicate = settings === false ? undefined : { maxDelayMs: settings.maxDelayMs ?? 0 };
    },
    get duplicatedMessages() {
      return duplicated;
    },
    get pendingDuplicates() {
      return copies.size + sending;
    },
    stop: async () => {
      duplicate = undefined;
      for (const timer of copies) clearTimeout(timer);
      copies.clear();
      // fastify's close() closes the listener itself: give it one to close.
      await reconnect();
      await app.close();
    },
  };
}

function isSend(headers: IncomingHttpHeaders, body: unknown): boolean {
  if (headers[COPY_HEADER] !== undefined) return false;
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return SQS_SENDS.has(target);
  const action = (body as { Action?: unknown } | undefined)?.Action;
  return typeof action === 'string' && SNS_SENDS.has(action);
}

/** Messages a send carries: the entries of a batch, else one. */
function messageCount(headers: IncomingHttpHeaders, body: unknown): number {
  if (typeof headers['x-amz-target'] === 'string') {
    const entries = (body as { Entries?: unknown } | undefined)?.Entries;
    return Array.isArray(entries) ? entries.length : 1;
  }
  const keys = Object.keys((body ?? {}) as Record<string, string>);
  const entries = keys.filter((k) => /^PublishBatchRequestEntries\.member\.\d+\.Id$/.test(k)).length;
  return entries > 0 ? entries : 1;
}

/** The request's body as it was sent: SQS speaks JSON, SNS form-encoded parameters. */
function serialize(headers: IncomingHttpHeaders, body: unknown): string {
  if (typeof headers['x-amz-target'] === 'string') return JSON.stringify(body);
  return new URLSearchParams(body as Record<string, string>).toString();
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'x-amz-target', 'authorization', 'host']) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}
