import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { ENV } from '@flotilla/model';
import type { Stack } from '../src/index.js';
import { describePostgresTier, startFixtureStack, testSystem } from './support.js';

describePostgresTier('startStack on a PostgreSQL server', (serverUrl) => {
  const prefix = `flotilla_dev_${process.pid}_`;
  let stack: Stack;
  let stateDir: string;
  const admin = new pg.Client({ connectionString: serverUrl });

  beforeAll(async () => {
    await admin.connect();
    ({ stack, stateDir } = await startFixtureStack(testSystem, {
      postgres: { url: serverUrl, databasePrefix: prefix },
      gatewayReadinessIntervalMs: 200,
    }));
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    for (const service of ['web', 'catalog'])
      await admin.query(`drop database if exists "${prefix}${service}" with (force)`);
    await admin.end();
  }, 30_000);

  const envOf = async (url: string) => (await (await fetch(`${url}/env`)).json()) as Record<string, string>;

  it("gives each service with a database its own database on the server as DATABASE_URL, as the cluster's Secret does", async () => {
    for (const s of stack.services()) {
      const env = await envOf(s.url);
      expect(env[ENV.databaseDir]).toBeUndefined();
      if (s.name !== 'web' && s.name !== 'catalog') {
        expect(env[ENV.databaseUrl]).toBeUndefined();
        continue;
      }
      const url = new URL(env[ENV.databaseUrl]!);
      expect(url.pathname).toBe(`/${prefix}${s.name}`);
      expect(s.databaseUrl).toContain(`/${prefix}${s.name}`);
      const db = new pg.Client({ connectionString: url.toString() });
      await db.connect();
      expect((await db.query('select current_database() as name')).rows[0].name).toBe(`${prefix}${s.name}`);
      await db.end();
    }
  });

  it('runs a second process of a service with a database, which shares it', async () => {
    const second = await stack.startInstance('web');
    expect((await envOf(second.url))[ENV.databaseUrl]).toBe(
      (await envOf(stack.instances('web')[0]!.url))[ENV.databaseUrl],
    );
    await stack.stopInstance('web', second.pid!);
    expect(stack.instances('web')).toHaveLength(1);
  });
});
