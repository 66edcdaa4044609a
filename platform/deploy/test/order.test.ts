import { fileURLToPath } from 'node:url';
import { loadManifests, type Manifest } from '../src/manifests.js';
import { describe as describeRef, refOf, type KubeObject } from '../src/objects.js';
import { PHASES, phaseOf, planPhases } from '../src/order.js';

const dist = (env: string): string => fileURLToPath(new URL(`../../../dist/${env}`, import.meta.url));

function manifest(object: KubeObject, file = 'x.yaml', document = 1): Manifest {
  return { object, file, document };
}

const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
const crd: KubeObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'scaledobjects.keda.sh' },
};
const app: KubeObject = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'keda', namespace: 'argocd' },
};
const queue: KubeObject = {
  apiVersion: 'sqs.services.k8s.aws/v1alpha1',
  kind: 'Queue',
  metadata: { name: 'q', namespace: 'shop' },
};
const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'orders', namespace: 'shop', labels: { 'app.kubernetes.io/component': 'service' } },
};
const ingress: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'orders', namespace: 'shop', labels: { 'app.kubernetes.io/component': 'service' } },
};

describe('apply order', () => {
  it('puts namespaces, CRDs, add-on applications, platform, services and ingress in that order, whatever the file order', () => {
    const shuffled = [ingress, deployment, queue, app, crd, ns].map((o, i) => manifest(o, `${i}.yaml`));
    expect(planPhases(shuffled).map((p) => [p.phase, p.manifests.map((m) => m.object.kind)])).toEqual([
      ['namespaces', ['Namespace']],
      ['crds', ['CustomResourceDefinition']],
      ['addons', ['Application']],
      ['platform', ['Queue']],
      ['services', ['Deployment']],
      ['ingress', ['Ingress']],
    ]);
  });

  it('keeps the read order within a phase and leaves empty phases out', () => {
    const a = { ...queue, metadata: { ...queue.metadata, name: 'a' } };
    const b = { ...queue, metadata: { ...queue.metadata, name: 'b' } };
    const plan = planPhases([manifest(b), manifest(a)]);
    expect(plan.map((p) => p.phase)).toEqual(['platform']);
    expect(plan[0]!.manifests.map((m) => m.object.metadata.name)).toEqual(['b', 'a']);
  });

  it.each(['local', 'dev', 'prod'])(
    'orders dist/%s: namespace first, every service object after the platform, traffic last',
    (env) => {
      const manifests = loadManifests(dist(env));
      const ordered = planPhases(manifests).flatMap((p) => p.manifests.map((m) => m.object));
      expect(ordered).toHaveLength(manifests.length);
      expect(ordered[0]!.kind).toBe('Namespace');
      const rank = (o: KubeObject): number => PHASES.indexOf(phaseOf(o));
      // Non-decreasing phase rank: nothing is applied before what it needs.
      expect(ordered.map(rank)).toEqual([...ordered.map(rank)].sort((x, y) => x - y));
      const services = ordered.filter((o) => phaseOf(o) === 'services').map((o) => describeRef(refOf(o)));
      expect(services).toEqual(
        expect.arrayContaining([
          'Deployment shop/orders',
          'Service shop/orders',
          'ServiceAccount shop/orders',
        ]),
      );
      expect(ordered.filter((o) => phaseOf(o) === 'ingress').every((o) => /Ingress/.test(o.kind))).toBe(true);
      expect(ordered.filter((o) => o.kind === 'Ingress')).toHaveLength(3);
    },
  );
});
