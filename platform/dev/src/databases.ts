/**
 * Embedded databases for local processes. A fresh PGlite data directory costs an initdb (~4 s and
 * ~800 MB); reopening one costs ~0.45 s. So initdb runs once, into a template cached per PGlite
 * version, and each service's missing directory starts as a copy of it.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/*
 * Compatibility with the runtime's own template helper (platform/runtime/src/database/pglite-template.ts),
 * which services use when they start on a missing DATABASE_DIR: the same default location, override
 * variable, completion marker and lock file, so the stack and the services share one template and never
 * rebuild it under each other. (The helper is not exported from @flotilla/runtime yet; once it is, this
 * module should call it instead.)
 */
/** Variable that overrides where the template lives (e.g. a CI cache directory). */
export const PGLITE_TEMPLATE_DIR_ENV = 'FLOTILLA_PGLITE_TEMPLATE_DIR';
/** Written into a finished template; its presence means initdb completed. Not copied into databases. */
const MARKER = 'flotilla-template.json';

function pgliteInstallation(): { version: string; nodeModules: string } {
  // Resolves to <node_modules>/@electric-sql/pglite/dist/index.cjs.
  const packageRoot = resolve(dirname(require.resolve('@electric-sql/pglite')), '..');
  const { version } = require(join(packageRoot, 'package.json')) as { version: string };
  return { version, nodeModules: resolve(packageRoot, '..', '..') };
}

/**
 * Where the template lives: `$FLOTILLA_PGLITE_TEMPLATE_DIR`, else
 * `node_modules/.cache/flotilla/pglite-template-<pglite version>` (so `make dev-reset` keeps it and
 * `make clean` drops it).
 */
export function defaultTemplateDir(): string {
  const fromEnv = process.env[PGLITE_TEMPLATE_DIR_ENV];
  if (fromEnv) return resolve(fromEnv);
  const { version, nodeModules } = pgliteInstallation();
  return join(nodeModules, '.cache', 'flotilla', `pglite-template-${version}`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An exclusive lock file holding the owner's pid; a lock left by a dead process is taken over. */
async function withLockFile<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(lockFile, 'utf8').catch(() => ''));
      if (owner > 0 && !processAlive(owner)) {
        await rm(lockFile, { force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/**
 * Makes sure a PGlite template data directory exists at `templateDir`, running initdb once if not.
 * initdb runs in a child process so its ~800 MB are returned to the machine when it ends; it writes to a
 * directory next to the target that is renamed into place, so a reader never sees a half-made template.
 * @returns whether initdb ran
 */
export async function ensureTemplate(templateDir: string): Promise<boolean> {
  if (await exists(join(templateDir, MARKER))) return false;
  await mkdir(dirname(templateDir), { recursive: true });
  return withLockFile(`${templateDir}.lock`, async () => {
    if (await exists(join(templateDir, MARKER))) return false; // made by another process while we waited
    const building = `${templateDir}.building-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    const pglite = pathToFileURL(require.resolve('@electric-sql/pglite')).href;
    const script =
      `const { PGlite } = await import(${JSON.stringify(pglite)});` +
      `const db = new PGlite(process.argv[1]); await db.waitReady; await db.query('select 1'); await db.close();`;
    try {
      await new Promise<void>((done, fail) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, building], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', fail);
        child.on('exit', (code) =>
          code === 0
            ? done()
            : fail(new Error(`PGlite initdb into ${building} failed (exit ${code}): ${stderr.trim()}`)),
        );
      });
      await writeFile(
        join(building, MARKER),
        JSON.stringify({ pglite: pgliteInstallation().version, created: new Date().toISOString() }),
      );
      await rm(templateDir, { recursive: true, force: true });
      await rename(building, templateDir);
    } finally {
      await rm(building, { recursive: true, force: true });
    }
    return true;
  });
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
  await cp(templateDir, dataDir, { recursive: true, filter: (source) => basename(source) !== MARKER });
  return true;
}
