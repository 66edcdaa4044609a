import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createPgliteDataDir,
  defaultPgliteTemplateDir,
  ensurePgliteTemplate,
  isPgliteDataDir,
} from '../src/database/index.js';

const MARKER = 'flotilla-template.json';

describe('PGlite template and data directories', () => {
  let root: string;
  let template: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'flotilla-template-test-'));
    // The same cached template services and `make dev` use: initdb runs at most once per machine and version.
    template = await ensurePgliteTemplate();
  }, 120_000);
  afterAll(() => rm(root, { recursive: true, force: true }));

  test('the default template lives next to the installed PGlite and is not rebuilt once it exists', async () => {
    expect(template).toBe(defaultPgliteTemplateDir());
    expect(template).toMatch(/node_modules\/\.cache\/flotilla\/pglite-template-\d+\.\d+\.\d+/);
    const created: string[] = [];
    expect(await ensurePgliteTemplate({ onCreated: ({ dir }) => created.push(dir) })).toBe(template);
    expect(created).toEqual([]);
  });

  test('a missing directory becomes a copy of the template, without the template marker and leftovers', async () => {
    const dir = path.join(root, 'data', 'orders');
    await createPgliteDataDir(dir, { template });
    expect(await isPgliteDataDir(dir)).toBe(true);
    expect(await readFile(path.join(dir, 'PG_VERSION'), 'utf8')).toBe(
      await readFile(path.join(template, 'PG_VERSION'), 'utf8'),
    );
    await expect(stat(path.join(dir, MARKER))).rejects.toThrow();
    expect((await readdir(path.join(root, 'data'))).sort()).toEqual(['orders']);
    // Every file of the template, byte for byte (the copy runs several files at once).
    const files = async (top: string): Promise<string[]> =>
      (await readdir(top, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => path.relative(top, path.join(e.parentPath, e.name)))
        .sort();
    expect(await files(dir)).toEqual((await files(template)).filter((f) => f !== MARKER));
    for (const file of ['global/pg_control', 'base/5/PG_VERSION'])
      expect(await readFile(path.join(dir, file))).toEqual(await readFile(path.join(template, file)));
  });

  test('a copy holds only the postgres database, the one PGlite opens, and opens with its data', async () => {
    const dir = path.join(root, 'data', 'only-postgres');
    await createPgliteDataDir(dir, { template });
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create({ dataDir: dir });
    try {
      const { rows } = await db.query<{ datname: string }>('select datname from pg_database');
      expect(rows.map((r) => r.datname)).toEqual(['postgres']);
      await db.exec('create table t (id int primary key); insert into t values (1)');
    } finally {
      await db.close();
    }
    const reopened = await PGlite.create({ dataDir: dir });
    try {
      expect((await reopened.query('select count(*)::int as n from t')).rows).toEqual([{ n: 1 }]);
    } finally {
      await reopened.close();
    }
  }, 60_000);

  test('an empty directory (a mount point) is filled in place', async () => {
    const dir = path.join(root, 'mounted');
    await mkdir(dir);
    await createPgliteDataDir(dir, { template });
    expect(await isPgliteDataDir(dir)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual((await readdir(template)).filter((n) => n !== MARKER).sort());
  });

  test('a directory holding other files is refused, named, and left as it was', async () => {
    const dir = path.join(root, 'not-a-database');
    await mkdir(dir);
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    await expect(createPgliteDataDir(dir, { template })).rejects.toThrow(
      `Cannot create a PGlite database in ${dir}: the directory is not empty`,
    );
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  test('a new template is built once for concurrent callers, in a child process, over an abandoned build', async () => {
    const dir = path.join(root, 'template');
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    await mkdir(`${dir}.building-${deadPid}`, { recursive: true });
    const created: number[] = [];
    const rssBefore = process.memoryUsage().rss;
    const dirs = await Promise.all(
      [1, 2].map(() => ensurePgliteTemplate({ dir, onCreated: ({ ms }) => created.push(ms) })),
    );
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    expect(dirs).toEqual([dir, dir]);
    expect(created).toHaveLength(1);
    expect(JSON.parse(await readFile(path.join(dir, MARKER), 'utf8'))).toMatchObject({
      pglite: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(await isPgliteDataDir(dir)).toBe(true);
    // Only the template is left: no lock, no build directory (ours or the dead process's).
    expect((await readdir(root)).filter((n) => n.startsWith('template'))).toEqual(['template']);
    // initdb's ~800 MB were another process's: this one grew by far less than in-process initdb would.
    expect(rssGrowthMb).toBeLessThan(200);
  }, 120_000);
});
