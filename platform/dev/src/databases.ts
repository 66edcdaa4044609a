/**
 * Embedded databases for local processes. A fresh PGlite data directory costs an initdb (~4 s and
 * ~800 MB); reopening one costs ~0.45 s. So initdb runs once, into a template cached per PGlite
 * version, and each service's missing directory starts as a copy of it.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** Installed PGlite version: templates are only valid for the version that wrote them. */
export async function pgliteVersion(): Promise<string> {
  const entry = require.resolve('@electric-sql/pglite');
  // The package root is the nearest directory above the entry with its package.json.
  let dir = dirname(entry);
  for (;;) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    } catch {
      // not this directory
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('Cannot find the version of @electric-sql/pglite; run `make deps`.');
    dir = up;
  }
}

/** Default template location: under node_modules/.cache, so `make dev-reset` keeps it and `make clean` drops it. */
export async function defaultTemplateDir(rootDir: string): Promise<string> {
  return join(rootDir, 'node_modules', '.cache', 'flotilla', `pglite-template-${await pgliteVersion()}`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Makes sure a PGlite template data directory exists at `templateDir`, running initdb once if not.
 * initdb runs in a child process so its ~800 MB are returned to the machine when it ends; it writes to a
 * temporary directory renamed into place, so an interrupted run never leaves a half-made template.
 * @returns whether initdb ran
 */
export async function ensureTemplate(templateDir: string): Promise<boolean> {
  if (await exists(join(templateDir, 'PG_VERSION'))) return false;
  const tmp = `${templateDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(dirname(templateDir), { recursive: true });
  const pglite = pathToFileURL(require.resolve('@electric-sql/pglite')).href;
  const script =
    `const { PGlite } = await import(${JSON.stringify(pglite)});` +
    `const db = new PGlite(process.argv[1]); await db.waitReady; await db.query('select 1'); await db.close();`;
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, tmp], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`PGlite initdb into ${tmp} failed (exit ${code}): ${stderr.trim()}`)),
      );
    });
    await rename(tmp, templateDir).catch(async (err: NodeJS.ErrnoException) => {
      // Another stack made the template at the same time: theirs is as good as ours.
      if (!(await exists(join(templateDir, 'PG_VERSION')))) throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return true;
}

/**
 * Gives `dataDir` a database: a copy of the template when it has none; an existing one is kept, so
 * data survives a restart of the stack.
 * @returns whether the directory was created
 */
export async function prepareDataDir(dataDir: string, templateDir: string): Promise<boolean> {
  if (await exists(join(dataDir, 'PG_VERSION'))) return false;
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dirname(dataDir), { recursive: true });
  await cp(templateDir, dataDir, { recursive: true });
  return true;
}
