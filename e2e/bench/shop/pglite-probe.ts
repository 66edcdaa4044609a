/**
 * What one PGlite instance adds to a process's resident memory when it reopens an existing database (as a
 * service does on every start but its first): the process's RSS before PGlite is imported, after the
 * import, and after `PGlite.create` on the data directory plus one query. Self-contained (packages only),
 * so the suite runs it compiled with plain node, without tsx.
 *
 *   node [flags] pglite-probe.mjs <data directory> <platform|pglite-defaults>   (reports over IPC)
 *
 * `platform` opens PGlite as the runtime does (its start parameters; the suite adds its Node flags, as
 * `make dev` does); `pglite-defaults` opens it with PGlite's own defaults, for comparison.
 */
import { readFileSync } from 'node:fs';
import { pgliteStartParams } from '@flotilla/runtime/pglite-settings';

function kb(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match?.[1] ?? NaN);
}

const [dataDir, mode] = process.argv.slice(2);
if (dataDir === undefined || (mode !== 'platform' && mode !== 'pglite-defaults'))
  throw new Error('usage: pglite-probe <data directory> <platform|pglite-defaults>');
const beforeKb = kb('VmRSS');
const { PGlite } = await import('@electric-sql/pglite');
const importedKb = kb('VmRSS');
const started = performance.now();
const pg = await PGlite.create({
  dataDir,
  ...(mode === 'platform' ? { startParams: pgliteStartParams(PGlite) } : {}),
});
await pg.query('select 1');
const openMs = performance.now() - started;
const openedKb = kb('VmRSS');
const peakKb = kb('VmHWM');
await pg.close();
process.send?.({ type: 'pglite-rss', beforeKb, importedKb, openedKb, peakKb, openMs });
process.disconnect?.();
