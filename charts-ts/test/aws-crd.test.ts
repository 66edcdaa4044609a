import { describe, expect, it } from '@jest/globals';
import { shop } from '../../services/system.js';
import { crdValidator, type KubeObject } from './support/crd-validate.js';
import { loadManifests } from './support/manifests.js';

const manifests = loadManifests(shop);
const validator = crdValidator();

describe('custom resources against the CRDs of the pinned add-ons', () => {
  it.each([...manifests.keys()])('every custom resource of %s validates', (env) => {
    const custom = manifests.get(env)!.filter((o) => validator.isCustomResource(o));
    expect(custom.length).toBeGreaterThan(0);
    const problems = custom.flatMap((o) => validator.validate(o));
    expect(problems).toEqual([]);
  });

  it('validates the ACK, ALB, KEDA, Argo CD and external-secrets kinds on EKS', () => {
    const kinds = new Set(
      manifests
        .get('prod')!
        .filter((o) => validator.isCustomResource(o))
        .map((o) => `${o.apiVersion}:${o.kind}`),
    );
    for (const k of [
      'sqs.services.k8s.aws/v1alpha1:Queue',
      'sns.services.k8s.aws/v1alpha1:Topic',
      'sns.services.k8s.aws/v1alpha1:Subscription',
      'iam.services.k8s.aws/v1alpha1:Role',
      'iam.services.k8s.aws/v1alpha1:Policy',
      'eks.services.k8s.aws/v1alpha1:PodIdentityAssociation',
      'external-secrets.io/v1:ExternalSecret',
      'external-secrets.io/v1:ClusterSecretStore',
      'elbv2.k8s.aws/v1beta1:IngressClassParams',
      'keda.sh/v1alpha1:ScaledObject',
      'argoproj.io/v1alpha1:Application',
      'argoproj.io/v1alpha1:AppProject',
    ])
      expect(kinds).toContain(k);
  });
});

describe('the CRD validator catches broken objects', () => {
  const queue: KubeObject = {
    apiVersion: 'sqs.services.k8s.aws/v1alpha1',
    kind: 'Queue',
    metadata: { name: 'q', namespace: 'shop' },
    spec: { queueName: 'q', visibilityTimeout: '30' },
  };

  it('accepts a valid Queue', () => {
    expect(validator.validate(queue)).toEqual([]);
  });

  it('rejects a wrong type', () => {
    const problems = validator.validate({ ...queue, spec: { queueName: 'q', visibilityTimeout: 30 } });
    expect(problems.join('\n')).toMatch(/Queue shop\/q: \/spec\/visibilityTimeout must be string/);
  });

  it('rejects an unknown field (the API server would silently prune it)', () => {
    const problems = validator.validate({ ...queue, spec: { queueName: 'q', visibilityTimeOut: '30' } });
    expect(problems.join('\n')).toMatch(/\/spec must NOT have additional properties 'visibilityTimeOut'/);
  });

  it('rejects a missing required field', () => {
    const problems = validator.validate({ ...queue, spec: { visibilityTimeout: '30' } });
    expect(problems.join('\n')).toMatch(/must have required property 'queueName'/);
  });

  it('rejects a kind no CRD of a pinned add-on defines', () => {
    const problems = validator.validate({ ...queue, kind: 'Queues' });
    expect(problems.join('\n')).toMatch(
      /no CRD of a pinned add-on defines sqs.services.k8s.aws\/v1alpha1:Queues/,
    );
  });

  it('validates deep inside large upstream schemas (Argo CD Application)', () => {
    const app: KubeObject = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'a', namespace: 'argocd' },
      spec: {
        project: 'p',
        destination: { server: 'https://kubernetes.default.svc', namespace: 'shop' },
        source: { repoURL: 'https://example.com/r.git', path: 'x' },
        syncPolicy: { automated: { prune: 'yes' } },
      },
    };
    expect(validator.validate(app).join('\n')).toMatch(
      /\/spec\/syncPolicy\/automated\/prune must be boolean/,
    );
  });
});
