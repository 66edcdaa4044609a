/**
 * The add-on table (`table.ts`) and what other parts read from it: an add-on by name, the absolute paths
 * of its vendored CRD files (what tests validate custom resources against, and what `make conformance`
 * installs into its API server), and the table as Markdown for the READMEs.
 *
 * Every CRD file of every pinned add-on: `allCrdFiles()`; one add-on's: `crdFilesOf('keda')`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDONS } from './table.js';
import type { Addon } from './types.js';

export { ADDONS } from './table.js';
export type { Addon, CrdFile, CrdSource, HelmChart } from './types.js';

/** Name of an add-on of the table. */
export type AddonName = (typeof ADDONS)[number]['name'];

/** The add-on named `name`. */
export function addon(name: AddonName): Addon {
  const found = (ADDONS as readonly Addon[]).find((a) => a.name === name);
  if (!found) throw new Error(`no add-on "${name}" in charts-ts/src/addons/table.ts`);
  return found;
}

/** The chart of an add-on installed from a Helm chart (every add-on but the GitOps bootstrap). */
export function chartOf(name: AddonName): NonNullable<Addon['chart']> {
  const chart = addon(name).chart;
  if (!chart) throw new Error(`add-on "${name}" is not installed from a Helm chart`);
  return chart;
}

/** Numeric parts of a version (`v3.4.2` -> [3, 4, 2]). */
function versionParts(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split(/[.-]/)
    .slice(0, 3)
    .map((p) => Number.parseInt(p, 10) || 0);
}

/** Whether `version` is at least `minimum` (major.minor.patch, a leading `v` ignored). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const [a, b] = [versionParts(version), versionParts(minimum)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/**
 * Fails synthesis when the pinned app version of `pinned` is older than `minimum`, the first release with
 * `feature` that the charts rely on: a pin moved back (or a new use of a feature) cannot go unnoticed.
 */
export function requireMinimumVersion(pinned: Addon, minimum: string, feature: string): void {
  if (!versionAtLeast(pinned.appVersion, minimum))
    throw new Error(
      `add-on "${pinned.name}" is pinned to ${pinned.appVersion}, but the charts use ${feature}, which needs ${minimum} or newer. Fix: raise its row in charts-ts/src/addons/table.ts (and its CRDs) to ${minimum} or newer`,
    );
}

/**
 * The `charts-ts` folder, found from this module's own location (the same from `src/` and from the
 * compiled `dist/src/`).
 */
function packageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@flotilla/charts'
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the @flotilla/charts package folder');
    dir = parent;
  }
}

/** Absolute path of `charts-ts/crds/`, where the vendored CRD files live. */
export const CRD_DIR: string = join(packageDir(), 'crds');

/** Absolute paths of one add-on's vendored CRD files. */
export function crdFilesOf(name: AddonName): string[] {
  return addon(name).crds.map((c) => join(CRD_DIR, c.file));
}

/** Absolute paths of every CRD file of every pinned add-on, in table order. */
export function allCrdFiles(): string[] {
  return (ADDONS as readonly Addon[]).flatMap((a) => a.crds.map((c) => join(CRD_DIR, c.file)));
}

/** Where a CRD file came from, in one cell of the README table. */
function sourceCell(a: Addon): string {
  if (a.crds.length === 0) return '— (no custom resources rendered)';
  const kinds = new Set(a.crds.map((c) => c.source.kind));
  return [...kinds]
    .map((kind) => {
      const files = a.crds.filter((c) => c.source.kind === kind);
      const first = files[0]!.source;
      return first.kind === 'go-module'
        ? `Go module \`${first.module}@${first.version}\` (${files.length} file${files.length > 1 ? 's' : ''}, byte-for-byte)`
        : `schema transcription of \`${first.repository}\` at ${files
            .map((f) => (f.source.kind === 'transcription' ? f.source.commit.slice(0, 7) : ''))
            .filter((c, i, all) => all.indexOf(c) === i)
            .join(', ')}${first.tagVerified ? '' : ' (commit not verified as the release tag)'}`;
    })
    .join('; ');
}

/** The add-on table as Markdown (the READMEs carry it; a test keeps them equal). */
export function addonTableMarkdown(): string {
  const rows = (ADDONS as readonly Addon[]).map((a) => {
    const chart = a.chart
      ? `\`${a.chart.name}\` ${a.chart.version}`
      : `[release manifest](${a.manifestUrl ?? ''})`;
    return `| ${a.name} | ${chart} | ${a.appVersion} | ${a.platforms.join(', ')} | ${sourceCell(a)} |`;
  });
  return [
    '| add-on | chart and version | app version | installed on | CRDs vendored from |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
