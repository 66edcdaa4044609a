/**
 * PGlite data directory templates. A fresh PGlite database runs initdb (~4.5 s and ~800 MB RSS on the
 * reference machines); opening an existing data directory takes ~0.35 s. So Flotilla runs initdb once per
 * PGlite version into a cached template directory and gives every new database a copy of it. Services (on
 * a missing DATABASE_DIR), `make dev` and tests share one template: same location, completion marker and
 * lock file, so no two processes ever build it at the same time.
 *
 * The template holds only the `postgres` database, the one PGlite connects to: initdb's `template0` and
 * `template1` are dropped (an embedded service database never runs CREATE DATABASE), so a copy is 373
 * files instead of 972, and files are copied several at a time. A copy (page cache warm) went from 640-920 ms
 * to 55-100 ms here.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENV } from '@flotilla/model';
import type { Logger } from '../kit.js';

/** Variable that overrides where the template lives (e.g. a CI cache directory). */
const PGLITE_TEMPLATE_DIR_ENV = 'FLOTILLA_PGLITE_TEMPLATE_DIR';

/** File written into a finished template; its presence means initdb completed. Never copied into a database. */
const MARKER = 'flotilla-template.json';
/**
 * What the template is made of beyond the PGlite version: part of its directory name, so a change to the
 * recipe builds a new template instead of reusing an old one. 2: `postgres` only.
 */
const TEMPLATE_RECIPE = 2;
/** Files copied at once: the copy waits on the disk, so several in flight keep it busy. */
const COPY_CONCURRENCY = 8;
/** Written last into a copy, and present in every PostgreSQL data directory. */
const PG_VERSION = 'PG_VERSION';

const require = createRequire(import.meta.url);

function pgliteInstallation(): { version: string; nodeModules: string; entry: string } {
  // Resolves to <node_modules>/@electric-sql/pglite/dist/index.cjs.
  const entry = require.resolve('@electric-sql/pglite');
  const packageRoot = path.resolve(path.dirname(entry), '..');
  const { version } = require(path.join(packageRoot, 'package.json')) as { version: string };
  return { version, nodeModules: path.resolve(packageRoot, '..', '..'), entry };
}

/**
 * Where the template for the installed PGlite version lives: `$FLOTILLA_PGLITE_TEMPLATE_DIR` when set, else
 * `node_modules/.cache/flotilla/pglite-template-<pglite version>-r<recipe>` (next to the installed PGlite, so it does
 * not depend on the working directory, `make dev-reset` keeps it and `make clean` removes it).
 */
export function defaultPgliteTemplateDir(): string {
  const fromEnv = process.env[PGLITE_TEMPLATE_DIR_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  const { version, nodeModules } = pgliteInstallation();
  return path.join(nodeModules, '.cache', 'flotilla', `pglite-template-${version}-r${TEMPLATE_RECIPE}`);
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
 * Removes `<target><infix><pid>` directories left next to `target` by processes that died while writing
 * them (a live writer's directory is left alone).
 */
async function removeAbandoned(target: string, infix: string): Promise<void> {
  const prefix = `${path.basename(target)}${infix}`;
  const siblings = await readdir(path.dirname(target)).catch(() => []);
  for (const name of siblings) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (pid > 0 && pid !== process.pid && !processAlive(pid)) {
      await rm(path.join(path.dirname(target), name), { recursive: true, force: true });
    }
  }
}

/**
 * Runs PGlite's initdb into `dataDir` in a child Node process, so its ~800 MB go back to the machine, then
 * drops the databases a service never connects to (see the module comment).
 */
function initdbInChildProcess(dataDir: string, pgliteEntry: string): Promise<void> {
  const script =
    `const { PGlite } = await import(${JSON.stringify(pathToFileURL(pgliteEntry).href)});` +
    `const db = await PGlite.create({ dataDir: process.argv[1] });` +
    `for (const name of ['template0', 'template1']) {` +
    `  await db.exec('alter database ' + name + ' is_template false'); await db.exec('drop database ' + name); }` +
    `await db.exec('checkpoint'); await db.close();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `PGlite initdb into ${dataDir} failed (${signal ? `signal ${signal}` : `exit ${code}`}): ` +
                `${stderr.trim() || 'no output'}. Check free disk space and memory (initdb needs ~800 MB), or ` +
                `point ${PGLITE_TEMPLATE_DIR_ENV} at a writable directory.`,
            ),
          ),
    );
  });
}

/** Options of {@link ensurePgliteTemplate}. */
export interface PgliteTemplateOptions {
  /** The template directory. @default {@link defaultPgliteTemplateDir}() */
  readonly dir?: string;
  /** Logs one info line when this call ran initdb. @default no log */
  readonly log?: Logger;
  /** Called when this call ran initdb (not when the template existed or another process made it). */
  readonly onCreated?: (created: { readonly dir: string; readonly ms: number }) => void;
}

/**
 * Makes sure a template data directory exists and returns its path. The first call on a machine runs initdb
 * (seconds) in a child process, so its ~800 MB RSS returns to the machine when it ends; every later call,
 * in any process, returns at once. The template is built next to `dir` and renamed into place, so a reader
 * never sees a half-made one.
 */
export async function ensurePgliteTemplate(options: PgliteTemplateOptions = {}): Promise<string> {
  const dir = path.resolve(options.dir ?? defaultPgliteTemplateDir());
  if (await exists(path.join(dir, MARKER))) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  return withLockFile(`${dir}.lock`, async () => {
    if (await exists(path.join(dir, MARKER))) return dir; // another process finished it while we waited
    const started = performance.now();
    await removeAbandoned(dir, '.building-');
    const building = `${dir}.building-${process.pid}`;
    await rm(building, { recursive: true, force: true });
    const pglite = pgliteInstallation();
    try {
      await initdbInChildProcess(building, pglite.entry);
      await writeFile(
        path.join(building, MARKER),
        JSON.stringify({ pglite: pglite.version, created: new Date().toISOString() }),
      );
      await rm(dir, { recursive: true, force: true });
      await rename(building, dir);
    } finally {
      await rm(building, { recursive: true, force: true });
    }
    const ms = Math.round(performance.now() - started);
    options.log?.info(
      { template: dir, ms },
      'created the PGlite template data directory (initdb runs once per PGlite version)',
    );
    options.onCreated?.({ dir, ms });
    return dir;
  });
}

/** True when `dir` holds a PostgreSQL data directory. */
export async function isPgliteDataDir(dir: string): Promise<boolean> {
  return exists(path.join(dir, PG_VERSION));
}

/**
 * Creates the PGlite data directory `target` as a copy of the template (creating the template first if
 * needed). `target` must be missing or an empty directory (e.g. a mount point); anything else is refused,
 * never deleted. A missing `target` is copied next to it and renamed into place; an empty one gets
 * `PG_VERSION` last. Either way a directory that holds `PG_VERSION` is a complete copy, and a copy cut
 * short (a crash, Ctrl-C) never passes for a database.
 */
export async function createPgliteDataDir(
  target: string,
  options: { template?: string; log?: Logger } = {},
): Promise<void> {
  const entries = await readdir(target).catch(() => undefined);
  if (entries !== undefined && entries.length > 0) {
    throw new Error(
      `Cannot create a PGlite database in ${target}: the directory is not empty and holds no PostgreSQL data ` +
        `directory (no PG_VERSION). Point ${ENV.databaseDir} at an empty or missing directory, or at an existing ` +
        `database (for \`make dev\`, \`make dev-reset\` wipes the local databases).`,
    );
  }
  const template = await ensurePgliteTemplate({
    ...(options.template !== undefined ? { dir: options.template } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  if (entries !== undefined) {
    await copyTree(template, target, (file) => file !== MARKER && file !== PG_VERSION);
    await copyFile(path.join(template, PG_VERSION), path.join(target, PG_VERSION));
    return;
  }
  await mkdir(path.dirname(target), { recursive: true });
  await removeAbandoned(target, '.creating-');
  const staging = `${target}.creating-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    await copyTree(template, staging, (file) => file !== MARKER);
    await rename(staging, target).catch(async (error: unknown) => {
      // Another process made `target` in the meantime: keep its database when it is one.
      if (!(await isPgliteDataDir(target))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Copies the directory tree `source` into `target` (created if missing), {@link COPY_CONCURRENCY} files at
 * a time (`fs.cp` copies one file after another). `include` gets each file's path relative to `source`.
 */
async function copyTree(source: string, target: string, include: (file: string) => boolean): Promise<void> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    await mkdir(path.join(target, relative), { recursive: true });
    for (const entry of await readdir(path.join(source, relative), { withFileTypes: true })) {
      const file = path.join(relative, entry.name);
      if (entry.isDirectory()) await walk(file);
      else if (include(file)) files.push(file);
    }
  };
  await walk('');
  let next = 0;
  const copyNext = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++] as string;
      await copyFile(path.join(source, file), path.join(target, file));
    }
  };
  await Promise.all(Array.from({ length: COPY_CONCURRENCY }, copyNext));
}
