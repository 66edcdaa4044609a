/**
 * What one PGlite instance adds to a process's resident memory when it reopens an existing database (as a
 * service does on every start but its first): the process's RSS before PGlite is imported, after the
 * import, and after `PGlite.create` on the data directory plus one query. Self-contained (packages only),
 * so the suite runs it compiled with plain node, without tsx.
 *
 *   node pglite-probe.mjs <data directory>   (reports over IPC)
 */
import { readFileSync } from 'node:fs';

function kb(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match?.[1] ?? NaN);
}

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: pglite-probe <data directory>');
const beforeKb = kb('VmRSS');
const { PGlite } = await import('@electric-sql/pglite');
const importedKb = kb('VmRSS');
const started = performance.now();
const pg = await PGlite.create({ dataDir });
await pg.query('select 1');
const openMs = performance.now() - started;
const openedKb = kb('VmRSS');
const peakKb = kb('VmHWM');
await pg.close();
process.send?.({ type: 'pglite-rss', beforeKb, importedKb, openedKb, peakKb, openMs });
process.disconnect?.();
