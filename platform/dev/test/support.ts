import { describe, it } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { defineService, defineSystem, defineTopic, EMULATOR_CREDENTIALS, type System } from '@flotilla/model';
import { startStack, type Stack, type StackOptions } from '../src/index.js';

/** Absolute path of a fixture service entry point. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/**
 * A small system with the shapes the shop uses: public routes, a synchronous call, a topic with
 * filtered and unfiltered subscribers, embedded databases and an internal-only consumer.
 */
export const testSystem = defineSystem({
  name: 'devtest',
  services: [
    defineService({
      name: 'web',
      port: 9101,
      routes: ['/api/things'],
      calls: ['catalog'],
      publishes: ['things'],
      database: true,
    }),
    defineService({
      name: 'catalog',
      port: 9102,
      routes: ['/api/catalog', '/api/things-admin'],
      consumes: [
        { topic: 'things', events: ['thing.deleted'], retryWindowMinutes: 2, visibilityTimeoutSeconds: 45 },
      ],
      database: true,
    }),
    defineService({ name: 'worker', port: 9103, consumes: [{ topic: 'things', events: ['thing.created'] }] }),
    defineService({ name: 'audit', port: 9104, consumes: [{ topic: 'things' }] }),
  ],
  topics: [defineTopic({ name: 'things', events: ['thing.created', 'thing.deleted'] })],
});

/**
 * `startStack` as the tests run it: every service is the echo fixture, on ephemeral ports, with a new
 * temporary state directory (the caller removes it), and `options` on top.
 */
export async function startFixtureStack(
  system: System,
  options: Partial<StackOptions> = {},
): Promise<{ stack: Stack; stateDir: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'flotilla-dev-'));
  const stack = await startStack({
    system,
    stateDir,
    emulatorPort: 0,
    gatewayPort: 0,
    traceSinkPort: 0,
    servicePorts: 'ephemeral',
    serviceEntry: () => fixture('echo-service.ts'),
    output: () => undefined,
    ...options,
  });
  return { stack, stateDir };
}

/** Whether a process id is alive (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SQS and SNS clients of the test itself, talking to an emulator endpoint. */
export function emulatorClients(endpoint: string): { sqs: SQSClient; sns: SNSClient; destroy(): void } {
  const config = { endpoint, region: 'us-east-1', credentials: EMULATOR_CREDENTIALS };
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  return {
    sqs,
    sns,
    destroy: () => {
      sqs.destroy();
      sns.destroy();
    },
  };
}

/** The PostgreSQL server of the Postgres tier (see .ci/run), if any. */
export const PG_TIER_URL = process.env.FLOTILLA_TEST_PG_URL;

/**
 * Declares tests that need a PostgreSQL server: run against FLOTILLA_TEST_PG_URL's, skipped with a
 * message without it, failing when FLOTILLA_REQUIRE_PG_TIER=1 (CI) says the tier must run.
 */
export function describePostgresTier(title: string, body: (url: string) => void): void {
  if (PG_TIER_URL) return describe(`${title} [postgres]`, () => body(PG_TIER_URL));
  describe(`${title} [postgres]`, () => {
    if (process.env.FLOTILLA_REQUIRE_PG_TIER === '1') {
      it('the Postgres tier has a server', () => {
        throw new Error(
          'FLOTILLA_REQUIRE_PG_TIER=1 but FLOTILLA_TEST_PG_URL is not set: start PostgreSQL and export ' +
            'FLOTILLA_TEST_PG_URL=postgres://user:password@127.0.0.1:5432/db (see .ci/run).',
        );
      });
    } else {
      it.skip('Postgres tier skipped: set FLOTILLA_TEST_PG_URL', () => undefined);
    }
  });
}
