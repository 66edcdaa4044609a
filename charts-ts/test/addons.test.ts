/**
 * The add-on table is the one place an add-on version is written, and its CRD files are exactly the
 * ones recorded for that version: these tests fail when a pin and its CRDs disagree, when a CRD file is
 * edited or added without its row, when a rendered manifest or script carries a version of its own, or
 * when a README's copy of the table is stale.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { shop } from '../../services/system.js';
import {
  ADDONS,
  addonTableMarkdown,
  allCrdFiles,
  CRD_DIR,
  requireMinimumVersion,
  versionAtLeast,
  type Addon,
} from '../src/addons/index.js';
import { kindAddonEnv } from '../src/addons/kind-env.js';
import { environments } from '../src/environments/index.js';
import { FLUENT_BIT_POD_IDENTITY_VERSION } from '../src/constructs/logging.js';
import { loadManifests, type K8sObject } from './support/manifests.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests and CRDs are untyped YAML */
const addons = ADDONS as readonly Addon[];
const repo = fileURLToPath(new URL('../../', import.meta.url));
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const crdDocs = (file: string) =>
  parseAllDocuments(readFileSync(join(CRD_DIR, file), 'utf8'))
    .map((d) => d.toJS() as any)
    .filter(Boolean);
const filesBelow = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

describe('the add-on table and its CRD files', () => {
  const rows = addons.flatMap((a) => a.crds.map((c) => [`${a.name}: ${c.file}`, a, c] as const));

  it.each(rows)('%s is the file recorded for that pin (sha256)', (_label, _addon, crd) => {
    expect(sha256(join(CRD_DIR, crd.file))).toBe(crd.sha256);
  });

  it.each(rows)('%s comes from the pinned version', (_label, addon, crd) => {
    const source = crd.source;
    if (source.kind === 'go-module') {
      expect(source.version).toBe(`v${addon.appVersion}`);
    } else {
      expect(source.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(source.repository).toMatch(/^[\w.-]+\/[\w.-]+$/);
    }
  });

  it('names every transcription whose commit is not proven to be the release tag (no silent additions)', () => {
    const unverified = addons.flatMap((a) =>
      a.crds.filter((c) => c.source.kind === 'transcription' && !c.source.tagVerified).map((c) => c.file),
    );
    expect(unverified.sort()).toEqual(
      [
        'ack/eks.services.k8s.aws_podidentityassociations.yaml',
        'aws-load-balancer-controller/elbv2.k8s.aws_ingressclassparams.yaml',
      ].sort(),
    );
  });

  it('lists every vendored CRD file exactly once, and holds only CustomResourceDefinitions', () => {
    const listed = addons.flatMap((a) => a.crds.map((c) => c.file));
    expect(new Set(listed).size).toBe(listed.length);
    expect(filesBelow(CRD_DIR)).toEqual([...listed].sort());
    for (const file of listed)
      for (const doc of crdDocs(file)) expect(doc.kind).toBe('CustomResourceDefinition');
    expect(
      allCrdFiles()
        .map((f) => relative(CRD_DIR, f))
        .sort(),
    ).toEqual([...listed].sort());
  });

  it.each(environments.map((e) => [e.name, e] as const))(
    'defines every custom resource %s renders by a CRD of an add-on that environment installs',
    (name, env) => {
      const installed = addons.filter(
        (a) => a.platforms.includes(env.platform) || a.platforms.includes('bootstrap'),
      );
      const defined = new Set(
        installed.flatMap((a) =>
          a.crds.flatMap((c) =>
            crdDocs(c.file).flatMap((d) =>
              d.spec.versions
                .filter((v: any) => v.served)
                .map((v: any) => `${d.spec.group}/${v.name}:${d.spec.names.kind}`),
            ),
          ),
        ),
      );
      const customGroups = new Set(
        addons.flatMap((a) => a.crds.flatMap((c) => crdDocs(c.file).map((d) => d.spec.group as string))),
      );
      const objects = loadManifests(shop, [env]).get(name)!;
      const custom = objects.filter((o: K8sObject) => customGroups.has(o.apiVersion.split('/')[0]!));
      expect(custom.length).toBeGreaterThan(0);
      for (const o of custom) expect(defined).toContain(`${o.apiVersion}:${o.kind}`);
    },
  );
});

describe('one place for every version', () => {
  const manifests = loadManifests(shop);

  it('installs each chart at exactly the version of its row', () => {
    const charts = new Map(addons.filter((a) => a.chart).map((a) => [a.chart!.name, a.chart!]));
    const seen = new Set<string>();
    for (const [, objects] of manifests)
      for (const app of objects.filter((o) => o.kind === 'Application')) {
        const spec = app.spec as any;
        for (const source of [spec.source, ...(spec.sources ?? [])].filter((s) => s?.chart)) {
          expect(source.targetRevision).toBe(charts.get(source.chart)?.version);
          expect(source.repoURL).toBe(charts.get(source.chart)?.repoUrl);
          seen.add(source.chart);
        }
      }
    // Every EKS add-on with a chart is installed somewhere.
    for (const a of addons.filter((x) => x.chart && x.platforms.includes('eks')))
      expect(seen).toContain(a.chart!.name);
  });

  it('writes no add-on version outside the table: not in the sources, not in the kind scripts', () => {
    const versions = new Set(addons.flatMap((a) => [a.appVersion, ...(a.chart ? [a.chart.version] : [])]));
    const files = [
      ...readdirSync(join(repo, 'charts-ts/src'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && !f.startsWith('addons'))
        .map((f) => join(repo, 'charts-ts/src', f)),
      ...readdirSync(join(repo, 'platform/kind')).map((f) => join(repo, 'platform/kind', f)),
    ];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const v of versions)
        expect(
          `${relative(repo, file)}: ${new RegExp(`['"\`:v-]${v.replace(/\./g, '\\.')}\\b`).test(text)}`,
        ).toBe(`${relative(repo, file)}: false`);
    }
  });

  it('gives the kind scripts the versions of the table', () => {
    const env = Object.fromEntries(
      kindAddonEnv()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    const row = (name: string) => addons.find((a) => a.name === name)!;
    expect(env.KEDA_VERSION).toBe(row('keda').appVersion);
    expect(env.METRICS_SERVER_VERSION).toBe(`v${row('metrics-server').appVersion}`);
    expect(env.INGRESS_NGINX_VERSION).toBe(`controller-v${row('ingress-nginx').appVersion}`);
    expect(readFileSync(join(repo, 'platform/kind/up.sh'), 'utf8')).toMatch(/eval "\$versions"/);
  });

  /** A Markdown table's cells, whatever padding Prettier gave its columns. */
  const cells = (table: string) =>
    table
      .trim()
      .split('\n')
      .map((line) => line.split('|').map((c) => c.trim().replace(/^-{3,}$/, '---')));

  it.each(['README.md', 'charts-ts/README.md'])('%s carries the table as it is', (readme) => {
    const text = readFileSync(join(repo, readme), 'utf8');
    const start = text.indexOf('<!-- addons:start -->');
    const end = text.indexOf('<!-- addons:end -->');
    expect(start).toBeGreaterThan(-1);
    expect(cells(text.slice(start + '<!-- addons:start -->'.length, end))).toEqual(
      cells(addonTableMarkdown()),
    );
  });
});

describe('features the charts rely on and the versions that have them', () => {
  const pinned = (appVersion: string): Addon => ({
    ...addons.find((a) => a.name === 'aws-for-fluent-bit')!,
    appVersion,
  });

  it('compares versions by number', () => {
    expect(versionAtLeast('3.2.1', '2.32.5')).toBe(true);
    expect(versionAtLeast('2.32.5', '2.32.5')).toBe(true);
    expect(versionAtLeast('2.32.4', '2.32.5')).toBe(false);
    expect(versionAtLeast('v2.6.2', '2.13.0')).toBe(false);
  });

  it('refuses to synthesize Pod Identity with a Fluent Bit that cannot use it, naming the fix', () => {
    expect(() =>
      requireMinimumVersion(pinned('2.31.12'), FLUENT_BIT_POD_IDENTITY_VERSION, 'EKS Pod Identity'),
    ).toThrow(
      /aws-for-fluent-bit" is pinned to 2\.31\.12, but the charts use EKS Pod Identity, which needs 2\.32\.5 or newer\. Fix: raise its row/,
    );
    expect(() =>
      requireMinimumVersion(pinned('3.2.1'), FLUENT_BIT_POD_IDENTITY_VERSION, 'EKS Pod Identity'),
    ).not.toThrow();
  });

  it('pins releases that have what the charts use (ALB IngressClassParams targetType, Fluent Bit Pod Identity)', () => {
    const row = (name: string) => addons.find((a) => a.name === name)!;
    expect(versionAtLeast(row('aws-load-balancer-controller').appVersion, '2.13.0')).toBe(true);
    expect(versionAtLeast(row('aws-for-fluent-bit').appVersion, FLUENT_BIT_POD_IDENTITY_VERSION)).toBe(true);
  });
});
