import { describe, expect, it } from '@jest/globals';
import { shop } from '../../services/system.js';
import { loadManifests } from './support/manifests.js';
import { KubernetesSchemas } from './support/kubernetes-schema.js';

const schemas = new KubernetesSchemas();
const manifests = loadManifests(shop);
/** Custom resources: validated against their CRD schemas by the aws-* tests, not here. */
const CUSTOM_GROUPS =
  /^(keda\.sh|elbv2\.k8s\.aws|sqs\.services\.k8s\.aws|sns\.services\.k8s\.aws|iam\.services\.k8s\.aws|eks\.services\.k8s\.aws|multicluster\.x-k8s\.io|argoproj\.io|external-secrets\.io|opentelemetry\.io)\//;

describe('Kubernetes 1.34 schema validation', () => {
  it.each([...manifests.keys()])(
    'every built-in object of %s validates strictly against Kubernetes 1.34',
    (env) => {
      const objects = manifests.get(env)!;
      const builtIn = objects.filter((o) => !CUSTOM_GROUPS.test(o.apiVersion));
      expect(builtIn.length).toBeGreaterThan(10);
      const problems = builtIn.flatMap((o) => schemas.validate(o));
      expect(problems).toEqual([]);
    },
  );

  it('every object is either a Kubernetes 1.34 kind or a known custom resource', () => {
    for (const objects of manifests.values()) {
      for (const o of objects)
        expect(
          `${o.apiVersion} ${o.kind}: ${schemas.has(o.apiVersion, o.kind) || CUSTOM_GROUPS.test(o.apiVersion)}`,
        ).toMatch(/true$/);
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
    expect(problems.map((p) => `${p.path} ${p.message}`).sort()).toEqual(
      [
        '/spec additionalProperties must NOT have additional properties: replicaCount',
        '/spec/template/spec/containers/0/securityContext additionalProperties must NOT have additional properties: runAsRoot',
      ].map((s) => s.replace(' additionalProperties ', ' ')),
    );
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
