/**
 * The shop's messaging and environment for in-process service tests: the fauxqs emulator with every topic,
 * queue, DLQ and subscription of the model (as `make dev` provisions them), and each service's variables
 * from `envFor`, with an ephemeral port, a temporary database directory and telemetry off.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localEnvironment, provisionMessaging, startEmulator } from '@flotilla/dev';
import { envFor, literalEnv, messagingResources } from '@flotilla/model';
import { createPublisher, type EventSchemas, type Publisher } from '@flotilla/runtime';
import { shop } from '../../system.js';

export interface ShopHarness {
  /** The variables `envFor` gives `service`, with PORT 0, telemetry off and `extra` on top. */
  varsFor(service: string, extra?: Record<string, string>): Record<string, string>;
  /** A publisher acting as `source`, to put events on the shop's topics. */
  publisherAs<S extends EventSchemas>(source: string, schemas: S): Publisher<S>;
  stop(): Promise<void>;
}

/** Logs of in-process services go nowhere (tests assert on behaviour). */
export const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

export async function startShopHarness(): Promise<ShopHarness> {
  const emulator = await startEmulator({ port: 0 });
  const dataDir = await mkdtemp(join(tmpdir(), 'shop-test-'));
  const env = localEnvironment({
    messagingEndpoint: emulator.endpoint,
    otlpEndpoint: 'http://127.0.0.1:9',
    dataDir,
  });
  await provisionMessaging(messagingResources(shop, env), {
    endpoint: emulator.endpoint,
    region: 'us-east-1',
  });
  const aws = {
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const sns = new SNSClient(aws);
  const sqs = new SQSClient(aws);
  return {
    varsFor: (service, extra = {}) => ({
      ...literalEnv(envFor(shop, service, env)),
      PORT: '0',
      OTEL_SDK_DISABLED: 'true',
      ...extra,
    }),
    publisherAs: (source, schemas) =>
      createPublisher({
        source,
        schemas,
        sns,
        sqs,
        env: literalEnv(envFor(shop, source, env)),
      }),
    async stop() {
      sns.destroy();
      sqs.destroy();
      await emulator.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs` with `what`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
