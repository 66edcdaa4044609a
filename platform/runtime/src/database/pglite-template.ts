/**
 * PGlite data directory templates. A fresh PGlite database runs initdb (~3.5 s and ~800 MB RSS on the
 * reference machines); opening an existing data directory takes ~0.5 s. So Flotilla runs initdb once per
 * PGlite version into a cached template directory and gives every new service database a copy of it.
 */
import { cp, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from '../kit.js';

/** Variable that overrides where the template lives (e.g. a CI cache directory). */
export const PGLITE_TEMPLATE_DIR_ENV = 'FLOTILLA_PGLITE_TEMPLATE_DIR';

/** File written into a finished template; its presence means initdb completed. */
const MARKER = 'flotilla-template.json';

function pgliteInstallation(): { version: string; nodeModules: string } {
  const require = createRequire(import.meta.url);
  // Resolves to <node_modules>/@electric-sql/pglite/dist/index.cjs.
  const entry = require.resolve('@electric-sql/pglite');
  const packageRoot = path.resolve(path.dirname(entry), '..');
  const { version } = require(path.join(packageRoot, 'package.json')) as { version: string };
  return { version, nodeModules: path.resolve(packageRoot, '..', '..') };
}

/**
 * Where the template for the installed PGlite version lives: `$FLOTILLA_PGLITE_TEMPLATE_DIR` when set, else
 * `node_modules/.cache/flotilla/pglite-template-<pglite version>` (next to the installed PGlite, so it does
 * not depend on the working directory and `make clean` removes it).
 */
export function defaultPgliteTemplateDir(): string {
  const fromEnv = process.env[PGLITE_TEMPLATE_DIR_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  const { version, nodeModules } = pgliteInstallation();
  return path.join(nodeModules, '.cache', 'flotilla', `pglite-template-${version}`);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock file so that concurrent processes (jest workers, `make dev` services) run initdb
 * once between them. A lock left by a dead process is taken over.
 */
async function withLockFile<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(lockFile, 'utf8').catch(() => ''));
      if (owner > 0 && !processAlive(owner)) {
        await rm(lockFile, { force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/**
 * Makes sure a template data directory exists and returns its path. The first call on a machine runs initdb
 * (seconds); every later call, in any process, returns at once.
 * @param dir template directory @default {@link defaultPgliteTemplateDir}()
 */
export async function ensurePgliteTemplate(options: { dir?: string; log?: Logger } = {}): Promise<string> {
  const dir = path.resolve(options.dir ?? defaultPgliteTemplateDir());
  if (await exists(path.join(dir, MARKER))) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  return withLockFile(`${dir}.lock`, async () => {
    if (await exists(path.join(dir, MARKER))) return dir; // another process finished it while we waited
    const started = performance.now();
    // Build next to the target and rename: a reader never sees a half-initialised template.
    const building = `${dir}.building-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    const { PGlite } = await import('@electric-sql/pglite'); // only when the template is built
    const pg = await PGlite.create({ dataDir: building });
    await pg.query('select 1');
    await pg.close();
    await writeFile(
      path.join(building, MARKER),
      JSON.stringify({ pglite: pgliteInstallation().version, created: new Date().toISOString() }),
    );
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
    options.log?.info(
      { template: dir, ms: Math.round(performance.now() - started) },
      'created the PGlite template data directory (initdb runs once per PGlite version)',
    );
    return dir;
  });
}

/** True when `dir` holds a PostgreSQL data directory. */
export async function isPgliteDataDir(dir: string): Promise<boolean> {
  return exists(path.join(dir, 'PG_VERSION'));
}

/**
 * Creates the PGlite data directory `target` as a copy of the template (creating the template first if
 * needed). `target` must not exist or be empty.
 */
export async function createPgliteDataDir(
  target: string,
  options: { template?: string; log?: Logger } = {},
): Promise<void> {
  const entries = await readdir(target).catch(() => []);
  if (entries.length > 0) {
    throw new Error(
      `Cannot create a PGlite database in ${target}: the directory is not empty and holds no PostgreSQL data ` +
        `directory (no PG_VERSION). Point DATABASE_DIR at an empty or missing directory, or at an existing database.`,
    );
  }
  const template = await ensurePgliteTemplate({
    ...(options.template !== undefined ? { dir: options.template } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  await cp(template, target, {
    recursive: true,
    filter: (source) => path.basename(source) !== MARKER,
  });
}
