/**
 * Test databases on both engines. PGlite databases are copies of the cached template (no initdb per test);
 * Postgres-tier databases are created on the server named by FLOTILLA_TEST_PG_URL, one per call, so test
 * files run in parallel without sharing tables. Without that variable the Postgres tier is skipped with a
 * message, unless FLOTILLA_REQUIRE_PG_TIER=1 (CI), where its absence fails.
 */
import { afterAll, describe, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';

export const PG_TIER_URL = process.env.FLOTILLA_TEST_PG_URL;
export const PG_TIER_REQUIRED = process.env.FLOTILLA_REQUIRE_PG_TIER === '1';
export const PG_TIER_SKIP_MESSAGE = 'Postgres tier skipped: set FLOTILLA_TEST_PG_URL';

/** A logger that writes nothing (tests assert on behaviour, not on log lines). */
export const silentLog = pino({ level: 'silent' });

export type EngineKind = 'pglite' | 'postgres';

/** Where a new, empty database lives: pass it to `openDatabase`. */
export type DatabaseLocation = { readonly url: string } | { readonly dir: string };

export interface TestEngine {
  readonly kind: EngineKind;
  /** A new empty database, removed after the test file. */
  fresh(): Promise<DatabaseLocation>;
}

export function pgliteTestEngine(): TestEngine {
  const roots: string[] = [];
  afterAll(async () => {
    await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
  });
  return {
    kind: 'pglite',
    async fresh() {
      const root = await mkdtemp(path.join(os.tmpdir(), 'flotilla-db-test-'));
      roots.push(root);
      return { dir: path.join(root, 'data') };
    },
  };
}

function postgresEngine(baseUrl: string): TestEngine {
  const created: string[] = [];
  afterAll(async () => {
    if (created.length === 0) return;
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    try {
      for (const name of created) await admin.query(`drop database if exists "${name}" with (force)`);
    } finally {
      await admin.end();
    }
  });
  return {
    kind: 'postgres',
    async fresh() {
      const name = `flotilla_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      const admin = new pg.Client({ connectionString: baseUrl });
      await admin.connect();
      try {
        await admin.query(`create database "${name}"`);
      } finally {
        await admin.end();
      }
      created.push(name);
      const url = new URL(baseUrl);
      url.pathname = `/${name}`;
      return { url: url.toString() };
    },
  };
}

/**
 * Declares the Postgres tier: `body` runs against a real server, or the tier is skipped with
 * {@link PG_TIER_SKIP_MESSAGE} — or fails when FLOTILLA_REQUIRE_PG_TIER=1.
 */
export function describePostgresTier(title: string, body: (engine: TestEngine) => void): void {
  if (PG_TIER_URL) {
    describe(`${title} [postgres]`, () => body(postgresEngine(PG_TIER_URL)));
    return;
  }
  if (PG_TIER_REQUIRED) {
    describe(`${title} [postgres]`, () => {
      test('the Postgres tier has a server', () => {
        throw new Error(
          'FLOTILLA_REQUIRE_PG_TIER=1 but FLOTILLA_TEST_PG_URL is not set: the Postgres tier cannot run. ' +
            'Start PostgreSQL and export FLOTILLA_TEST_PG_URL=postgres://user:password@127.0.0.1:5432/db (see .ci/run).',
        );
      });
    });
    return;
  }
  describe(`${title} [postgres]`, () => {
    test.skip(PG_TIER_SKIP_MESSAGE, () => undefined);
  });
  console.warn(`${PG_TIER_SKIP_MESSAGE} (${title})`);
}

/** Declares `body` once for PGlite and once for the Postgres tier. */
export function describeEachEngine(title: string, body: (engine: TestEngine) => void): void {
  describe(`${title} [pglite]`, () => body(pgliteTestEngine()));
  describePostgresTier(title, body);
}
