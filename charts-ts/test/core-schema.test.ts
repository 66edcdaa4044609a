import { describe, expect, it } from '@jest/globals';
import { shop } from '../../services/system.js';
import { crdValidator } from './support/crd-validate.js';
import { loadManifests, type K8sObject } from './support/manifests.js';
import { KubernetesSchemas } from './support/kubernetes-schema.js';

const schemas = new KubernetesSchemas();
const manifests = loadManifests(shop);
/** Custom resources (a group with a vendored CRD): validated against their CRD schemas by aws-crd.test.ts, not here. */
const isCustom = (o: K8sObject) => crdValidator().isCustomResource(o);

describe('Kubernetes 1.34 schema validation', () => {
  it.each([...manifests.keys()])(
    'every built-in object of %s validates strictly against Kubernetes 1.34',
    (env) => {
      const objects = manifests.get(env)!;
      const builtIn = objects.filter((o) => !isCustom(o));
      expect(builtIn.length).toBeGreaterThan(10);
      const problems = builtIn.flatMap((o) => schemas.validate(o));
      expect(problems).toEqual([]);
    },
  );

  it('every object is either a Kubernetes 1.34 kind or a known custom resource', () => {
    for (const objects of manifests.values()) {
      for (const o of objects)
        expect(`${o.apiVersion} ${o.kind}: ${schemas.has(o.apiVersion, o.kind) || isCustom(o)}`).toMatch(
          /true$/,
        );
    }
  });

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
