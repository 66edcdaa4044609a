import { describe, expect, it } from '@jest/globals';
import { shop } from '../../services/system.js';
import { crdValidator } from './support/crd-validate.js';
import { loadManifests, type K8sObject } from './support/manifests.js';
import {
  DEFAULT_KUBERNETES_VERSION,
  environments,
  SUPPORTED_KUBERNETES_VERSIONS,
} from '../src/environments/index.js';
import { validatedSchemas } from './support/kubernetes-schema.js';

const versions = validatedSchemas();
const [schemas] = versions as [(typeof versions)[number]];
const manifests = loadManifests(shop);
/** Custom resources (a group with a vendored CRD): validated against their CRD schemas by aws-crd.test.ts, not here. */
const isCustom = (o: K8sObject) => crdValidator().isCustomResource(o);

describe.each(versions)('Kubernetes $version schema validation', (k8s) => {
  const version = k8s.version;
  it('is the schema of that Kubernetes release', () => {
    expect(k8s.source).toMatch(new RegExp(`^k8s\\.io/kubernetes@v${version.replace('.', '\\.')}\\.\\d+ `));
  });

  it.each([...manifests.keys()])(
    `every built-in object of %s validates strictly against Kubernetes ${version}`,
    (env) => {
      const objects = manifests.get(env)!;
      const builtIn = objects.filter((o) => !isCustom(o));
      expect(builtIn.length).toBeGreaterThan(10);
      const problems = builtIn.flatMap((o) => k8s.validate(o));
      expect(problems).toEqual([]);
    },
  );

  it(`every object is either a Kubernetes ${version} kind or a known custom resource`, () => {
    for (const objects of manifests.values()) {
      for (const o of objects)
        expect(`${o.apiVersion} ${o.kind}: ${k8s.has(o.apiVersion, o.kind) || isCustom(o)}`).toMatch(/true$/);
    }
  });
});

describe('the targeted Kubernetes version', () => {
  it('is validated: the oldest and newest supported versions are 1.34 and 1.36, and environments target 1.36', () => {
    expect(versions.map((v) => v.version)).toEqual(['1.34', '1.36']);
    expect(versions.map((v) => v.version)).toEqual([
      SUPPORTED_KUBERNETES_VERSIONS[0],
      SUPPORTED_KUBERNETES_VERSIONS.at(-1),
    ]);
    expect(DEFAULT_KUBERNETES_VERSION).toBe('1.36');
    for (const env of environments) expect(env.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION).toBe('1.36');
  });

  it('pins the namespace Pod Security Standards version to it', () => {
    for (const [env, objects] of manifests) {
      const ns = objects.find((o) => o.kind === 'Namespace')!;
      expect(`${env} ${ns.metadata.labels?.['pod-security.kubernetes.io/enforce-version']}`).toBe(
        `${env} v1.36`,
      );
    }
  });
});

describe('schema validation (checked once, on the oldest version)', () => {
  const deployment = () =>
    structuredClone(manifests.get('prod')!.find((o) => o.kind === 'Deployment')!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('catches a wrong type: spec.replicas "two"', () => {
    const d = deployment();
    d.spec.replicas = 'two';
    expect(schemas.validate(d as never)).toEqual([
      expect.objectContaining({ path: '/spec/replicas', message: 'must be integer' }),
    ]);
  });

  it('catches an unknown field, also deep inside the pod template', () => {
    const d = deployment();
    d.spec.replicaCount = 2;
    d.spec.template.spec.containers[0].securityContext.runAsRoot = false;
    const problems = schemas.validate(d as never);
    expect(problems.map((p) => `${p.path} ${p.message}`).sort()).toEqual([
      '/spec must NOT have additional properties: replicaCount',
      '/spec/template/spec/containers/0/securityContext must NOT have additional properties: runAsRoot',
    ]);
  });

  it('catches a missing required field and an out-of-range int32', () => {
    const d = deployment();
    delete d.spec.template.spec.containers[0].name;
    d.spec.minReadySeconds = 2 ** 40;
    const paths = schemas.validate(d as never).map((p) => p.path);
    expect(paths).toContain('/spec/template/spec/containers/0');
    expect(paths).toContain('/spec/minReadySeconds');
  });
});
