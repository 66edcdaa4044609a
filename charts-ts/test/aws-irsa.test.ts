/**
 * IRSA end to end: an environment like prod but with `identity: 'irsa'` must give every service and
 * add-on that has an IAM identity a Role trusting the cluster's OIDC provider for exactly the
 * ServiceAccount that carries the role ARN, and environments without a usable issuer must be rejected.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
 */
import { describe, expect, it } from '@jest/globals';
import { shop } from '../../services/system.js';
import { prod } from '../src/environments/index.js';
import type { EksEnvironment } from '../src/environments/types.js';
import { iamPolicyFiles, identityPlan } from '../src/iam-json.js';
import { render } from '../src/main.js';
import { crdValidator } from './support/crd-validate.js';
import { environmentError } from './support/environment-error.js';
import { validatedSchemas } from './support/kubernetes-schema.js';
import { loadManifests, type K8sObject } from './support/manifests.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0123456789';
// Written out here, not through the code's helpers: what the AWS documentation shows.
const PROVIDER = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0123456789';
const ROLE_ARN = 'eks.amazonaws.com/role-arn';

const irsa = { ...prod, identity: 'irsa', oidcIssuer: ISSUER } as EksEnvironment;
const objects = loadManifests(shop, [irsa]).get(irsa.name)!;

/** A ServiceAccount that is given a role: rendered here, or created by a Helm add-on from its values. */
interface RoleHolder {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
}

/**
 * Every ServiceAccount that carries a role ARN: ServiceAccount objects with the annotation, and the
 * add-ons' ServiceAccounts as each chart documents its values (annotations on `serviceAccount`, or
 * KEDA's `podIdentity.aws.irsa.roleArn` on its operator's ServiceAccount, `keda-operator` by default).
 */
function roleHolders(): RoleHolder[] {
  const out: RoleHolder[] = [];
  for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) {
    const arn = sa.metadata.annotations?.[ROLE_ARN];
    if (arn) out.push({ namespace: sa.metadata.namespace!, serviceAccount: sa.metadata.name, roleArn: arn });
  }
  for (const app of objects.filter((o) => o.kind === 'Application')) {
    const spec = app.spec as any;
    for (const source of [spec.source, ...(spec.sources ?? [])].filter((s) => s?.chart)) {
      const values = source.helm.valuesObject ?? {};
      const namespace = spec.destination.namespace;
      const annotated = values.serviceAccount?.annotations?.[ROLE_ARN];
      if (annotated) out.push({ namespace, serviceAccount: values.serviceAccount.name, roleArn: annotated });
      const keda = values.podIdentity?.aws?.irsa;
      if (source.chart === 'keda' && keda?.enabled && keda.roleArn)
        out.push({
          namespace,
          serviceAccount: values.serviceAccount?.operator?.name ?? 'keda-operator',
          roleArn: keda.roleArn,
        });
    }
  }
  return out;
}

const roles = objects.filter((o) => o.kind === 'Role' && o.apiVersion.startsWith('iam.services.k8s.aws/'));
const roleArnOf = (role: K8sObject) => `arn:aws:iam::${irsa.accountId}:role/${(role.spec as any).name}`;

describe('IRSA (prod with identity: irsa)', () => {
  it('gives every service and add-on identity a role held by exactly one ServiceAccount', () => {
    const holders = roleHolders();
    const plan = identityPlan(shop, irsa);
    // Every identity of the plan (services, collector, log shipper, KEDA, external-secrets) is held.
    expect(holders.map((h) => `${h.namespace}/${h.serviceAccount}`).sort()).toEqual(
      plan.map((g) => `${g.namespace}/${g.serviceAccount}`).sort(),
    );
    for (const addon of [
      'shop/otel-collector',
      'amazon-cloudwatch/aws-for-fluent-bit',
      'keda/keda-operator',
      'external-secrets/external-secrets',
    ])
      expect(holders.map((h) => `${h.namespace}/${h.serviceAccount}`)).toContain(addon);
    // One Role per holder, and every role-arn names a Role that is emitted.
    expect(roles.map(roleArnOf).sort()).toEqual(holders.map((h) => h.roleArn).sort());
  });

  it("trusts the cluster's OIDC provider for exactly the ServiceAccount that carries the role ARN", () => {
    const holders = roleHolders();
    expect(holders.length).toBeGreaterThan(4);
    for (const holder of holders) {
      const role = roles.find((r) => roleArnOf(r) === holder.roleArn);
      expect(role).toBeDefined();
      expect(JSON.parse((role!.spec as any).assumeRolePolicyDocument)).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowServiceAccount',
            Effect: 'Allow',
            Principal: { Federated: `arn:aws:iam::${irsa.accountId}:oidc-provider/${PROVIDER}` },
            Action: ['sts:AssumeRoleWithWebIdentity'],
            Condition: {
              StringEquals: {
                [`${PROVIDER}:sub`]: `system:serviceaccount:${holder.namespace}:${holder.serviceAccount}`,
                [`${PROVIDER}:aud`]: 'sts.amazonaws.com',
              },
            },
          },
        ],
      });
      // The role attaches the Policy of the same name, which is emitted too.
      const name = (role!.spec as any).name;
      expect((role!.spec as any).policyRefs).toEqual([{ from: { name, namespace: irsa.namespace } }]);
      expect(objects.some((o) => o.kind === 'Policy' && o.metadata.name === name)).toBe(true);
    }
  });

  it('runs each service with a role under the ServiceAccount that carries it, and the role exists', () => {
    const holders = roleHolders();
    const services = identityPlan(shop, irsa).filter((g) => shop.services.some((s) => s.name === g.key));
    expect(services.length).toBeGreaterThan(0);
    for (const grant of services) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === grant.key)!;
      const sa = (deployment.spec as any).template.spec.serviceAccountName;
      const roleArn = `arn:aws:iam::${irsa.accountId}:role/${grant.roleName}`;
      expect(holders).toContainEqual({ namespace: irsa.namespace, serviceAccount: sa, roleArn });
      expect(roles.map(roleArnOf)).toContain(roleArn);
    }
  });

  it("emits no Pod Identity association, and KEDA's operator gets its role through the chart's IRSA values", () => {
    expect(objects.filter((o) => o.kind === 'PodIdentityAssociation')).toEqual([]);
    const keda = objects.find((o) => o.kind === 'Application' && (o.spec as any).source?.chart === 'keda')!;
    const grant = identityPlan(shop, irsa).find((g) => g.namespace === 'keda')!;
    expect((keda.spec as any).source.helm.valuesObject.podIdentity.aws.irsa).toEqual({
      enabled: true,
      roleArn: `arn:aws:iam::${irsa.accountId}:role/${grant.roleName}`,
    });
  });

  it('validates every object, the IRSA roles included, against Kubernetes 1.34 and 1.36 and the vendored CRDs', () => {
    expect(roles.length).toBe(identityPlan(shop, irsa).length);
    const validator = crdValidator();
    const versions = validatedSchemas();
    const problems = objects.flatMap((o) =>
      validator.isCustomResource(o)
        ? validator.validate(o)
        : versions.flatMap((schemas) =>
            schemas.validate(o).map((p) => `${schemas.version} ${JSON.stringify(p)}`),
          ),
    );
    expect(problems).toEqual([]);
  });

  it('writes the IRSA trust policy of each identity under iam/', () => {
    const files = iamPolicyFiles(shop, irsa);
    for (const grant of identityPlan(shop, irsa)) {
      const trust = JSON.parse(files[`iam/${grant.key}.trust.json`]!);
      expect(trust.Statement[0].Principal).toEqual({
        Federated: `arn:aws:iam::${irsa.accountId}:oidc-provider/${PROVIDER}`,
      });
      expect(trust.Statement[0].Condition.StringEquals[`${PROVIDER}:sub`]).toBe(
        `system:serviceaccount:${grant.namespace}:${grant.serviceAccount}`,
      );
    }
  });
});

describe('the OIDC issuer of an environment', () => {
  /** The message of the environment's EnvironmentError, '' when it is valid. */
  const problemsOf = (env: EksEnvironment): string => environmentError(env)?.message ?? '';

  it('is required with identity: irsa, naming the environment, the field and how to find it', () => {
    const missing = { ...prod, identity: 'irsa' } as EksEnvironment;
    expect(problemsOf(missing)).toBe(
      'environment "prod" has 1 problem:\n' +
        '  - oidcIssuer: is missing, and identity "irsa" needs it for the trust policy of every IAM role. ' +
        "Fix: set it to the cluster's issuer URL, printed by " +
        '`aws eks describe-cluster --name flotilla-prod --query cluster.identity.oidc.issuer --output text`',
    );
    // Nothing is rendered for it.
    expect(() => render(shop, [missing])).toThrow(/oidcIssuer: is missing/);
  });

  it.each([
    'http://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
    'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
    '',
  ])('must be an https:// URL with identity: irsa (%p is rejected); Pod Identity ignores it', (issuer) => {
    const message = problemsOf({ ...prod, identity: 'irsa', oidcIssuer: issuer } as EksEnvironment);
    expect(message).toMatch(/^environment "prod" has 1 problem:\n {2}- oidcIssuer: /);
    expect(message).toContain(issuer ? `"${issuer}" is not an https:// URL` : 'is missing');
    expect(message).toContain('aws eks describe-cluster --name flotilla-prod');
    expect(problemsOf({ ...prod, oidcIssuer: issuer } as EksEnvironment)).toBe('');
    expect(problemsOf({ ...prod, identity: 'irsa', oidcIssuer: ISSUER } as EksEnvironment)).toBe('');
  });
});
