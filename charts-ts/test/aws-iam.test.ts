import { describe, expect, it } from '@jest/globals';
import { App, Chart } from 'cdk8s';
import { shop } from '../../services/system.js';
import { servicePolicy, WorkloadIdentity, type PolicyDocument } from '../src/constructs/identity.js';
import { iamRoleArn } from '../src/environments/names.js';
import { dev, prod } from '../src/environments/index.js';
import type { EksEnvironment } from '../src/environments/types.js';
import {
  boundaryPolicyName,
  iamPolicyFiles,
  identityPlan,
  kedaOperatorPolicy,
  roleArnAnnotations,
} from '../src/iam-json.js';
import { local } from '../src/environments/index.js';
import { loadManifests } from './support/manifests.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
const pairs = (doc: PolicyDocument | undefined) =>
  new Set((doc?.Statement ?? []).flatMap((s) => s.Action.flatMap((a) => s.Resource.map((r) => `${a} ${r}`))));

/** What the model implies, written out from the declarations alone (not through the name helpers). */
function expectedPairs(env: EksEnvironment, service: string): Set<string> {
  const s = shop.service(service);
  const arn = (svc: 'sqs' | 'sns', name: string) =>
    `arn:aws:${svc}:${env.region}:${env.accountId}:shop-${env.name}-${name}`;
  const out = new Set<string>();
  for (const t of s.publishes) out.add(`sns:Publish ${arn('sns', t)}`);
  for (const t of s.sends) out.add(`sqs:SendMessage ${arn('sqs', `${t.service}-${t.queue}`)}`);
  for (const c of s.consumes) {
    for (const a of [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
    ])
      out.add(`${a} ${arn('sqs', `${s.name}-${c.key}`)}`);
    out.add(`sqs:SendMessage ${arn('sqs', `${s.name}-${c.key}-dlq`)}`);
  }
  if (env.runtime.discovery.method === 'cloudmap' && s.calls.length > 0)
    out.add('servicediscovery:DiscoverInstances *');
  return out;
}

describe.each([
  ['dev', dev],
  ['prod', prod],
] as const)('IAM in %s', (_name, env) => {
  it.each(shop.services.map((s) => s.name))('%s is granted exactly what the model declares', (service) => {
    expect([...pairs(servicePolicy(shop, env, service))].sort()).toEqual(
      [...expectedPairs(env, service)].sort(),
    );
  });

  it('uses a wildcard resource only where AWS has no resource-level permission, or narrowed by a condition', () => {
    for (const grant of identityPlan(shop, env)) {
      for (const st of grant.policy.Statement) {
        if (!st.Resource.some((r) => r === '*' || r.endsWith(':*:*'))) continue;
        // Conditions narrow Cloud Map discovery to one namespace, and ExternalDNS's writes to its tag.
        if (st.Condition) continue;
        expect(`${grant.key}: ${st.Action.join(',')}`).toMatch(
          /: (xray:[A-Za-z]+,?)+$|^external-dns: servicediscovery:ListNamespaces,servicediscovery:ListServices$/,
        );
      }
    }
  });

  it('gives KEDA read access to queue depth only, on exactly the queues of queue-scaled services', () => {
    const scaled = shop.services.filter((s) => s.scaling.kind === 'queue');
    expect(scaled.length).toBeGreaterThan(0);
    const expected = scaled.flatMap((s) =>
      s.consumes.map(
        (c) =>
          `sqs:GetQueueAttributes arn:aws:sqs:${env.region}:${env.accountId}:shop-${env.name}-${s.name}-${c.key}`,
      ),
    );
    expect([...pairs(kedaOperatorPolicy(shop, env))].sort()).toEqual(expected.sort());
  });

  it('emits one ACK Policy, Role and Pod Identity association per identity, bound to the right ServiceAccount', () => {
    const objects = loadManifests(shop, [env]).get(env.name)!;
    const plan = identityPlan(shop, env);
    const policies = objects.filter((o) => o.kind === 'Policy' && o.apiVersion.startsWith('iam.'));
    const roles = objects.filter((o) => o.kind === 'Role' && o.apiVersion.startsWith('iam.'));
    const assocs = objects.filter((o) => o.kind === 'PodIdentityAssociation');
    // One per identity, and the permissions boundary every role gets.
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(
      [...plan.map((g) => g.roleName), boundaryPolicyName('shop', env)].sort(),
    );
    for (const grant of plan) {
      const policy = policies.find((p) => p.metadata.name === grant.roleName)!;
      expect(JSON.parse((policy.spec as any).policyDocument)).toEqual(grant.policy);
      const role = roles.find((r) => r.metadata.name === grant.roleName)!;
      const trust = JSON.parse((role.spec as any).assumeRolePolicyDocument);
      expect(trust.Statement[0].Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
      expect(trust.Statement[0].Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
      expect((role.spec as any).policyRefs).toEqual([
        { from: { name: grant.roleName, namespace: env.namespace } },
      ]);
      const assoc = assocs.find((a) => a.metadata.name === grant.roleName)!;
      expect(assoc.spec).toMatchObject({
        clusterName: env.clusterName,
        namespace: grant.namespace,
        serviceAccount: grant.serviceAccount,
        roleRef: { from: { name: grant.roleName } },
      });
    }
    // The collector can write traces: the AWSXRayDaemonWriteAccess actions.
    const collector = plan.find((g) => g.key === 'otel-collector')!;
    expect([...pairs(collector.policy)]).toEqual(
      expect.arrayContaining([
        'xray:PutTraceSegments *',
        'xray:PutTelemetryRecords *',
        'xray:GetSamplingRules *',
        'xray:GetSamplingTargets *',
      ]),
    );
  });

  it('writes the same documents as plain JSON under iam/', () => {
    const files = iamPolicyFiles(shop, env);
    for (const grant of identityPlan(shop, env)) {
      expect(JSON.parse(files[`iam/${grant.key}.policy.json`]!)).toEqual(grant.policy);
      expect(JSON.parse(files[`iam/${grant.key}.trust.json`]!).Statement[0].Principal.Service).toBe(
        'pods.eks.amazonaws.com',
      );
    }
    expect(files['iam/README.md']).toContain('| orders | shop-' + env.name + '-orders | shop/orders |');
  });
});

describe('identity settings', () => {
  it('annotates ServiceAccounts with the role ARN only under IRSA', () => {
    expect(roleArnAnnotations(shop, dev, 'orders')).toEqual({});
    const irsa: EksEnvironment = { ...dev, identity: 'irsa' };
    expect(roleArnAnnotations(shop, irsa, 'orders')).toEqual({
      'eks.amazonaws.com/role-arn': iamRoleArn(irsa, 'shop-dev-orders'),
    });
    expect(iamRoleArn(irsa, 'shop-dev-orders')).toBe(`arn:aws:iam::${dev.accountId}:role/shop-dev-orders`);
    expect(roleArnAnnotations(shop, local, 'orders')).toEqual({});
  });

  it("under IRSA, trusts exactly the grant's ServiceAccount, in its own namespace (add-ons too)", () => {
    const issuer = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE';
    const irsa: EksEnvironment = { ...dev, identity: 'irsa', oidcIssuer: issuer };
    const chart = new Chart(new App(), 'irsa');
    const plan = identityPlan(shop, irsa);
    for (const grant of plan) new WorkloadIdentity(chart, grant.key, { environment: irsa, ...grant });
    const roles = chart.toJson().filter((o: any) => o.kind === 'Role');
    expect(roles.map((r: any) => r.metadata.name).sort()).toEqual(plan.map((g) => g.roleName).sort());
    const shipper = plan.find((g) => g.key === 'log-shipper')!;
    expect(shipper.namespace).not.toBe(irsa.namespace);
    for (const grant of plan) {
      const role = roles.find((r: any) => r.metadata.name === grant.roleName);
      const trust = JSON.parse(role.spec.assumeRolePolicyDocument);
      expect(trust.Statement[0].Condition.StringEquals).toEqual({
        'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE:sub': `system:serviceaccount:${grant.namespace}:${grant.serviceAccount}`,
        'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE:aud': 'sts.amazonaws.com',
      });
    }
  });

  it('writes no IAM files and no ACK identity off EKS', () => {
    expect(iamPolicyFiles(shop, local)).toEqual({});
    const objects = loadManifests(shop, [local]).get('local')!;
    expect(objects.filter((o) => o.apiVersion.includes('services.k8s.aws'))).toEqual([]);
  });
});
