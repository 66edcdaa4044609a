/**
 * @flotilla/dev/testing: a test kit for Flotilla services. It runs a service in-process against the real
 * messaging of its system, the way `make dev` runs it, with no mocks of Flotilla or AWS:
 *
 * - {@link startTestStack}: the SQS/SNS emulator (fauxqs) with every topic, queue, dead-letter queue and
 *   subscription of the system's model, each service's variables from `envFor` (ephemeral port, a
 *   temporary database directory, telemetry off), and publishers that put events on the system's topics
 *   as if another service sent them;
 * - {@link eventually}: waits for an asynchronous outcome (a consumed event) without fixed sleeps;
 * - {@link quiet}: a log destination that drops the service's log lines;
 * - {@link testEngines}: the database engines a service's tests run on (embedded PGlite, and the
 *   PostgreSQL server of the Postgres tier when `FLOTILLA_TEST_PG_URL` names one).
 * - {@link startMoto}: moto's server, a second, independent implementation of X-Ray, CloudWatch Logs,
 *   SQS, SNS and Cloud Map, on a free loopback port (installed by `scripts/moto.sh`).
 *
 * ```ts
 * import { eventually, quiet, startTestStack, type TestStack } from '@flotilla/dev/testing';
 * import { shop } from '../../system.js';
 *
 * const stack = await startTestStack(shop);
 * const { svc } = await main({ env: stack.varsFor('inventory'), manageProcess: false, logDestination: quiet });
 * await stack.publisherAs('orders', orderEvents).publish('orders', 'order.cancelled', cancelled);
 * await eventually('stock released', async () => ((await available('SKU-1')) === 3 ? true : undefined));
 * await svc.stop();
 * await stack.stop();
 * ```
 *
 * Embedded databases are created on first open as copies of the cached PGlite template (no initdb per
 * test; see `ensurePgliteTemplate` in `@flotilla/runtime`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EMULATOR_CREDENTIALS, ENV, envFor, type RuntimeEnvironment, type System } from '@flotilla/model';
import { createPublisher, type EventSchemas, type Publisher } from '@flotilla/runtime';
import {
  databaseSecrets,
  dropServerDatabases,
  ensureServerDatabases,
  resolveEnv,
  serverDatabases,
} from './databases.js';
import { startEmulator } from './emulator.js';
import { localEnvironment } from './environment.js';
import { provisionMessaging } from './provision.js';

export { startMoto, type Moto, type MotoOptions } from './moto.js';

/** The messaging and environment of one system, for tests that run its services in-process. */
export interface TestStack {
  /** SQS/SNS endpoint of the emulator (`http://127.0.0.1:<port>`), for AWS SDK clients of the test itself. */
  readonly messagingEndpoint: string;
  /** The `local` environment the variables are computed for (its database directory is temporary). */
  readonly environment: RuntimeEnvironment;
  /**
   * The variables `envFor` gives `service` in this stack, with `PORT=0` (an ephemeral port: read the
   * service's listening URL), `OTEL_SDK_DISABLED=true`, and `extra` on top (e.g. a peer's URL once it
   * listens on its ephemeral port).
   */
  varsFor(service: string, extra?: Readonly<Record<string, string>>): Record<string, string>;
  /**
   * A publisher acting as the system's service `source`: events go to the topics `source` declares it
   * publishes, in the envelope and with the validation of the runtime's `createPublisher`.
   */
  publisherAs<S extends EventSchemas>(source: string, schemas: S): Publisher<S>;
  /** Stops the emulator, closes the publishers' clients and deletes the databases. Stop services first. */
  stop(): Promise<void>;
}

/** Options of {@link startTestStack}. */
export interface TestStackOptions {
  /** Region of the emulator, the environment and the publishers. @default 'us-east-1' */
  readonly region?: string;
  /**
   * A PostgreSQL server for the services' databases instead of embedded PGlite: each service that declares a
   * database gets a new one there (`<system>_t<random>_<service>`, so test files can run at once), named by
   * `DATABASE_URL` in `varsFor`, and dropped by `stop()`. The URL's user must be allowed to create databases.
   * @default - embedded PGlite databases in a temporary directory
   * @see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS
   */
  readonly postgres?: { readonly url: string };
}

/**
 * Starts the emulator on a free port with every topic, queue, DLQ and subscription of `system` (as
 * `make dev` provisions them) and a temporary directory for the services' embedded databases.
 */
export async function startTestStack(system: System, options: TestStackOptions = {}): Promise<TestStack> {
  const region = options.region ?? 'us-east-1';
  const emulator = await startEmulator({ port: 0, region });
  const dataDir = await mkdtemp(join(tmpdir(), `flotilla-test-${system.name}-`));
  const onServer = options.postgres
    ? serverDatabases(
        { url: options.postgres.url, databasePrefix: `${system.name}_t${randomBytes(4).toString('hex')}_` },
        system.name,
        system.services.filter((s) => s.database).map((s) => s.name),
      )
    : [];
  const discard = async (): Promise<void> => {
    await emulator.stop();
    await rm(dataDir, { recursive: true, force: true });
    if (options.postgres)
      await dropServerDatabases(
        options.postgres.url,
        onServer.map((d) => d.name),
      );
  };
  const environment = localEnvironment({
    messagingEndpoint: emulator.endpoint,
    // Nothing listens on the discard port; OTEL_SDK_DISABLED keeps the services from exporting anyway.
    otlpEndpoint: 'http://127.0.0.1:9',
    dataDir,
    region,
    databases: options.postgres ? 'server' : 'embedded',
  });
  try {
    await provisionMessaging(system, environment);
    if (options.postgres)
      await ensureServerDatabases(
        options.postgres.url,
        onServer.map((d) => d.name),
      );
  } catch (error) {
    await discard();
    throw error;
  }
  const aws = { endpoint: emulator.endpoint, region, credentials: EMULATOR_CREDENTIALS };
  const sns = new SNSClient(aws);
  const sqs = new SQSClient(aws);
  // On a server, DATABASE_URL comes from the Secret `<service>-db` as in a cluster; filled in as make dev does.
  const secrets = databaseSecrets(onServer);
  const varsOf = (service: string): Record<string, string> =>
    resolveEnv(service, envFor(system, service, environment), secrets);
  return {
    messagingEndpoint: emulator.endpoint,
    environment,
    varsFor: (service, extra = {}) => ({
      ...varsOf(service),
      [ENV.port]: '0',
      OTEL_SDK_DISABLED: 'true',
      ...extra,
    }),
    publisherAs: (source, schemas) => createPublisher({ source, schemas, sns, sqs, env: varsOf(source) }),
    async stop() {
      sns.destroy();
      sqs.destroy();
      await discard();
    },
  };
}

/** A database engine a service's tests run on: pass `stackOptions` to {@link startTestStack}. */
export interface TestEngine {
  readonly name: 'pglite' | 'postgres';
  readonly stackOptions: TestStackOptions;
}

/**
 * The engines a service's tests run on: embedded PGlite, and the PostgreSQL server of the Postgres tier when
 * `FLOTILLA_TEST_PG_URL` names one (`postgres://user:password@127.0.0.1:5432/db`, see .ci/run). Without it
 * the tier is skipped with a warning, or fails when `FLOTILLA_REQUIRE_PG_TIER=1` (CI) says it must run.
 *
 * ```ts
 * describe.each(testEngines())('orders [$name]', ({ stackOptions }) => { ... startTestStack(shop, stackOptions) ... });
 * ```
 */
export function testEngines(env: NodeJS.ProcessEnv = process.env): TestEngine[] {
  const pglite: TestEngine = { name: 'pglite', stackOptions: {} };
  const url = env.FLOTILLA_TEST_PG_URL;
  if (url) return [pglite, { name: 'postgres', stackOptions: { postgres: { url } } }];
  if (env.FLOTILLA_REQUIRE_PG_TIER === '1') {
    throw new Error(
      'FLOTILLA_REQUIRE_PG_TIER=1 but FLOTILLA_TEST_PG_URL is not set: the Postgres tier cannot run. Start ' +
        'PostgreSQL and export FLOTILLA_TEST_PG_URL=postgres://user:password@127.0.0.1:5432/db (see .ci/run).',
    );
  }
  console.warn('Postgres tier skipped: set FLOTILLA_TEST_PG_URL');
  return [pglite];
}

/**
 * Polls `probe` every 100 ms until it returns a value other than `undefined`, and returns that value.
 * Fails with "timed out waiting for `what`" after `timeoutMs`; an error thrown by `probe` fails at once.
 * @default timeoutMs 15000
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A log destination that drops everything: pass it as a service's `logDestination` in tests. */
export const quiet: Writable = new Writable({ write: (_chunk, _encoding, done) => done() });
