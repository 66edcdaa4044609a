import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTemplateDir, ensureTemplate, prepareDataDir } from '../src/index.js';

describe('embedded database directories', () => {
  let dir: string;
  let template: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-db-'));
    // The same cached template the stack uses: initdb runs at most once per machine and PGlite version.
    template = defaultTemplateDir();
    await ensureTemplate(template);
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('copies the template into a missing service directory and keeps an existing one (data survives a restart)', async () => {
    const svc = join(dir, 'data', 'orders');
    expect(await prepareDataDir(svc, template)).toBe(true);
    expect(await readFile(join(svc, 'PG_VERSION'), 'utf8')).toBe(
      await readFile(join(template, 'PG_VERSION'), 'utf8'),
    );
    // The template's completion marker is not part of a database.
    await expect(stat(join(svc, 'flotilla-template.json'))).rejects.toThrow();
    await writeFile(join(svc, 'marker'), 'kept');
    expect(await prepareDataDir(svc, template)).toBe(false);
    expect(await readFile(join(svc, 'marker'), 'utf8')).toBe('kept');
  });

  it('does not run initdb again once the template exists', async () => {
    expect(await ensureTemplate(template)).toBe(false);
  });
});
