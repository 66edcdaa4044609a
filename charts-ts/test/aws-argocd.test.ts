import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { shop } from '../../services/system.js';
import { ARGOCD_FILES, SYNC_WAVE, helmAddons, manifestApps } from '../src/constructs/argocd.js';
import { dev, prod } from '../src/environments/index.js';
import { iamPolicyFiles } from '../src/iam-json.js';
import { render } from '../src/main.js';
import { crdValidator } from './support/crd-validate.js';
import { environmentCases, loadManifests, type K8sObject } from './support/manifests.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
const rendered = render(shop);
const manifests = loadManifests(shop);
const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave']);

describe.each(environmentCases)('Argo CD apps of %s', (name, env) => {
  const objects = manifests.get(name)!;
  const apps = objects.filter((o) => o.kind === 'Application' && o.metadata.name !== `shop-${name}`);
  const spec = (o: K8sObject) => o.spec as any;

  it('has one Application per platform file and per service, each syncing exactly one rendered file', () => {
    const files = [...rendered.get(name)!.keys()].filter((f) => !f.includes('/'));
    const included = apps
      .filter((a) => spec(a).source?.directory)
      .map((a) => spec(a).source.directory.include);
    expect(included.sort()).toEqual(files.sort());
    for (const s of shop.services) {
      const app = apps.find((a) => a.metadata.name === `shop-${name}-${s.name}`)!;
      expect(spec(app).source).toMatchObject({
        path: `dist/${name}`,
        directory: { include: `30-service-${s.name}.k8s.yaml` },
      });
    }
  });

  it('syncs automatically with prune, self-heal and server-side apply', () => {
    for (const app of apps) {
      expect(spec(app).syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      expect(spec(app).syncPolicy.syncOptions).toContain('ServerSideApply=true');
      expect(app.metadata).toMatchObject({ finalizers: ['resources-finalizer.argocd.argoproj.io'] });
    }
  });

  it('orders sync waves: add-ons, then the namespace, then queues and identities, then services, then the ingress', () => {
    const byName = (suffix: string) => apps.find((a) => a.metadata.name === `shop-${name}-${suffix}`)!;
    const services = shop.services.map((s) => wave(byName(s.name)));
    expect(wave(byName('namespace'))).toBeLessThan(wave(byName('platform')));
    for (const w of services) {
      expect(wave(byName('platform'))).toBeLessThan(w);
      expect(w).toBeLessThan(wave(byName('ingress')));
    }
    const addons = apps.filter((a) => spec(a).source?.chart || spec(a).sources);
    for (const a of addons) expect(wave(a)).toBeLessThan(wave(byName('namespace')));
    // The platform file holds the queues and identities on EKS.
    if (env.platform === 'eks') {
      const platformFile = rendered.get(name)!.get('10-platform.k8s.yaml')!;
      expect(platformFile).toContain('kind: Queue');
      expect(platformFile).toContain('kind: PodIdentityAssociation');
    }
  });

  it('leaves autoscaled replicas to the autoscaler', () => {
    for (const s of shop.services) {
      const app = apps.find((a) => a.metadata.name === `shop-${name}-${s.name}`)!;
      expect(spec(app).ignoreDifferences).toEqual([
        {
          group: 'apps',
          kind: 'Deployment',
          name: s.name,
          namespace: env.namespace,
          jsonPointers: ['/spec/replicas'],
        },
      ]);
      expect(spec(app).syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
    }
  });

  it('validates against the Argo CD CRDs', () => {
    const argo = objects.filter((o) => o.apiVersion === 'argoproj.io/v1alpha1');
    expect(argo.length).toBeGreaterThan(0);
    expect(argo.flatMap((o) => crdValidator().validate(o))).toEqual([]);
  });
});

/** The Helm sources of an Application (`source` or `sources`). */
const helmSources = (o: K8sObject): any[] =>
  [(o.spec as any).source, ...((o.spec as any).sources ?? [])].filter((s) => s?.chart);

describe('Argo CD add-ons on EKS', () => {
  const apps = manifests.get('prod')!.filter((o) => o.kind === 'Application' && helmSources(o).length > 0);

  it('installs every add-on the platform needs from a pinned Helm chart', () => {
    const charts = apps.flatMap((a) => helmSources(a).map((s) => s.chart)).sort();
    expect(charts).toEqual(
      [
        'aws-for-fluent-bit',
        'aws-load-balancer-controller',
        'eks-chart',
        'external-dns',
        'external-secrets',
        'iam-chart',
        'keda',
        'metrics-server',
        'sns-chart',
        'sqs-chart',
      ].sort(),
    );
    for (const s of apps.flatMap(helmSources)) expect(s.targetRevision).toMatch(/^\d+\.\d+\.\d+$/);
    expect(apps.every((a) => wave(a) === SYNC_WAVE.addons)).toBe(true);
  });

  it('keeps add-ons out of kind and out of the system project', () => {
    expect(
      manifests.get('local')!.filter((o) => o.kind === 'Application' && helmSources(o).length > 0),
    ).toEqual([]);
    expect(apps.every((a) => (a.spec as any).project === 'shop-prod-addons')).toBe(true);
    expect(helmAddons(shop, prod).map((a) => a.name)).toContain('aws-for-fluent-bit');
  });

  it('ships service logs to one CloudWatch group per service', () => {
    const fluent = apps.find((a) => (a.spec as any).source?.chart === 'aws-for-fluent-bit')!;
    const values = (fluent.spec as any).source.helm.valuesObject;
    expect(values.cloudWatchLogs.logGroupTemplate).toBe(
      "/flotilla/shop/prod/$kubernetes['labels']['app.kubernetes.io/name']",
    );
    expect(values.cloudWatchLogs.region).toBe(prod.region);
  });

  it('the root app syncs exactly the apps file', () => {
    const root = manifests
      .get('dev')!
      .find((o) => o.kind === 'Application' && o.metadata.name === 'shop-dev')!;
    expect((root.spec as any).source).toMatchObject({
      path: 'dist/dev/argocd',
      directory: { include: 'apps.k8s.yaml' },
    });
    expect(manifestApps(shop, dev).map((a) => a.file)).toContain('00-namespace.k8s.yaml');
    expect(ARGOCD_FILES.root).toBe('argocd/root.k8s.yaml');
  });
});

/** Every file below `dir`, relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

describe('the committed dist/ (what Argo CD syncs)', () => {
  const root = fileURLToPath(new URL('../../dist/', import.meta.url));

  it.each(environmentCases)(
    'dist/%s is exactly what the model renders now (run `make synth` and commit dist/ when this fails)',
    (name, env) => {
      const expected = new Map<string, string>([
        ...rendered.get(name)!,
        ...Object.entries(iamPolicyFiles(shop, env)),
      ]);
      const dir = join(root, name);
      expect(existsSync(dir)).toBe(true);
      expect(filesBelow(dir)).toEqual([...expected.keys()].sort());
      for (const [file, text] of expected) {
        const committed = readFileSync(join(dir, file), 'utf8');
        if (committed !== text)
          throw new Error(`dist/${name}/${file} is stale: run \`make synth\` and commit dist/`);
      }
    },
  );
});
