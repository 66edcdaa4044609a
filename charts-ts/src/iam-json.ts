/**
 * Every AWS identity of an EKS environment, derived from the model: one per service (its queues and
 * topics), and one per platform component (collector, log shipper, KEDA operator, external-secrets).
 * The charts emit them as ACK resources (`platform-resources.ts`); `iamPolicyFiles` writes the same
 * documents as plain JSON under `dist/<env>/iam/` for teams that manage IAM with Terraform or CDK.
 */
import { messagingResources, queueArn, topicArn, topicName, type System } from '@flotilla/model';
import { addon } from './addons/index.js';
import { EXTERNAL_DNS, externalDnsPolicy } from './constructs/cloudmap.js';
import { databaseSecretId, EXTERNAL_SECRETS, secretReaderPolicy } from './constructs/database.js';
import { servicePolicy, trustPolicy, type PolicyDocument } from './constructs/identity.js';
import { LOG_SHIPPER, logGroupArn, logShipperPolicy } from './constructs/logging.js';
import { collectorPolicy } from './constructs/otel-collector.js';
import { iamRoleArn, iamRoleName, OTEL_COLLECTOR, serviceAccountName } from './environments/names.js';
import type { EksEnvironment, FlotillaEnvironment } from './environments/types.js';

/**
 * Where KEDA's Helm add-on runs, and the ServiceAccount of its operator (which polls queue depth): the
 * chart's default operator ServiceAccount name.
 */
export const KEDA = { namespace: addon('keda').namespace, serviceAccount: 'keda-operator' } as const;

/** Keys (in {@link identityPlan}) of the platform components' identities; a service's key is its name. */
export const PLATFORM_IDENTITY = {
  collector: OTEL_COLLECTOR.name,
  logShipper: 'log-shipper',
  keda: 'keda-operator',
  externalSecrets: 'external-secrets',
  externalDns: 'external-dns',
} as const;

/** The ServiceAccount annotation IRSA reads the role ARN from. @see https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** One IAM role: who may assume it (a ServiceAccount) and what it may do. */
export interface IdentityGrant {
  /** File stem and construct id: the service name, or the platform component's name. */
  readonly key: string;
  readonly roleName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly policy: PolicyDocument;
  readonly description: string;
}

/**
 * KEDA's operator reads the depth of the queues of queue-scaled services: `sqs:GetQueueAttributes` on
 * exactly those queues. The ScaledObjects' TriggerAuthentication uses the operator's identity
 * (`identityOwner: keda`) so the operator never holds a service's receive/delete rights.
 * @see https://keda.sh/docs/latest/scalers/aws-sqs/
 */
export function kedaOperatorPolicy(system: System, env: FlotillaEnvironment): PolicyDocument | undefined {
  const scaled = new Set(system.services.filter((s) => s.scaling.kind === 'queue').map((s) => s.name));
  const queues = messagingResources(system, env.runtime).queues.filter((q) => scaled.has(q.service));
  if (queues.length === 0) return undefined;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadQueueDepth',
        Effect: 'Allow',
        Action: ['sqs:GetQueueAttributes'],
        Resource: queues.map((q) => q.arn),
      },
    ],
  };
}

/**
 * The `podIdentity` block of the KEDA TriggerAuthentications of queue-scaled services on EKS: the
 * operator's own identity (`identityOwner: keda`), which {@link kedaOperatorPolicy} limits to reading
 * queue depth. (Assuming the service's role instead would hand KEDA the service's receive/delete rights.)
 * @see https://keda.sh/docs/latest/authentication-providers/aws/
 */
export function kedaAwsPodIdentity(): { readonly provider: 'aws'; readonly identityOwner: 'keda' } {
  return { provider: 'aws', identityOwner: 'keda' };
}

/** Every identity of an EKS environment, services first, in a stable order. */
export function identityPlan(system: System, env: EksEnvironment): IdentityGrant[] {
  const out: IdentityGrant[] = [];
  // A workload that needs no AWS access (its policy is undefined) gets no identity.
  const grant = (
    key: string,
    namespace: string,
    serviceAccount: string,
    policy: PolicyDocument | undefined,
    description: string,
  ) => {
    if (policy)
      out.push({
        key,
        roleName: iamRoleName(system.name, env, key),
        namespace,
        serviceAccount,
        policy,
        description,
      });
  };
  for (const s of system.services) {
    grant(
      s.name,
      env.namespace,
      serviceAccountName(s.name),
      servicePolicy(system, env, s.name),
      `Flotilla ${system.name}/${s.name}: its declared queues and topics`,
    );
  }
  grant(
    PLATFORM_IDENTITY.collector,
    env.namespace,
    OTEL_COLLECTOR.name,
    collectorPolicy(system, env),
    `Flotilla ${system.name}: traces to X-Ray, metrics to CloudWatch`,
  );
  grant(
    PLATFORM_IDENTITY.logShipper,
    LOG_SHIPPER.namespace,
    LOG_SHIPPER.serviceAccount,
    logShipperPolicy(system, env),
    `Flotilla ${system.name}: service logs to CloudWatch Logs`,
  );
  grant(
    PLATFORM_IDENTITY.keda,
    KEDA.namespace,
    KEDA.serviceAccount,
    kedaOperatorPolicy(system, env),
    `Flotilla ${system.name}: queue depth for KEDA`,
  );
  grant(
    PLATFORM_IDENTITY.externalSecrets,
    EXTERNAL_SECRETS.namespace,
    EXTERNAL_SECRETS.serviceAccount,
    secretReaderPolicy(system, env),
    `Flotilla ${system.name}: database secrets`,
  );
  grant(
    PLATFORM_IDENTITY.externalDns,
    EXTERNAL_DNS.namespace,
    EXTERNAL_DNS.serviceAccount,
    externalDnsPolicy(system, env),
    `Flotilla ${system.name}: Cloud Map registration of its pods`,
  );
  return out;
}

/** Name of the managed policy that bounds every role of an environment: `<system>-<env>-boundary`. */
export function boundaryPolicyName(system: string, env: Pick<EksEnvironment, 'name'>): string {
  return iamRoleName(system, env, 'boundary');
}

/** ARN of the boundary policy (IAM ARNs are deterministic). */
export function boundaryPolicyArn(system: string, env: Pick<EksEnvironment, 'name' | 'accountId'>): string {
  return `arn:aws:iam::${env.accountId}:policy/${boundaryPolicyName(system, env)}`;
}

/**
 * The permissions boundary of every role of an environment: each action any identity of the plan uses,
 * on the system's own resources only (its `<system>-<env>-` queues and topics, its `/flotilla/<system>/
 * <env>/` log groups, its `<system>/<env>/` secrets; `*` where the service has no resource-level
 * permissions). A policy attached to a role later, by hand or by a compromised ACK resource, can add
 * nothing outside it. Its size does not grow with the number of services.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 */
export function boundaryPolicy(system: System, env: EksEnvironment): PolicyDocument {
  const rt = env.runtime;
  const own = (name: string) => `${name.slice(0, name.lastIndexOf('*'))}*`;
  const resources: Record<string, string[]> = {
    sqs: [own(queueArn(rt, topicName(system.name, rt, '*')))],
    sns: [own(topicArn(rt, topicName(system.name, rt, '*')))],
    logs: [logGroupArn(env, `/flotilla/${system.name}/${env.name}/*`)],
    secretsmanager: [
      `arn:aws:secretsmanager:${env.region}:${env.accountId}:secret:${databaseSecretId(system.name, env, '*')}`,
    ],
  };
  const actions = new Map<string, Set<string>>();
  for (const grant of identityPlan(system, env))
    for (const statement of grant.policy.Statement)
      for (const action of statement.Action) {
        const service = action.split(':')[0]!;
        const set = actions.get(service) ?? new Set<string>();
        set.add(action);
        actions.set(service, set);
      }
  return {
    Version: '2012-10-17',
    Statement: [...actions.keys()].sort().map((service) => ({
      Sid: `Bound${service.replace(/[^a-z0-9]/gi, '')}`,
      Effect: 'Allow' as const,
      Action: [...actions.get(service)!].sort(),
      Resource: resources[service] ?? ['*'],
    })),
  };
}

/**
 * Under IRSA, the ARN of the role of one identity of the plan (a service's name or a
 * {@link PLATFORM_IDENTITY} key): what its ServiceAccount must carry. `undefined` with Pod Identity (the
 * association lives in EKS, not on the ServiceAccount), off EKS, and for a workload without AWS access.
 */
export function irsaRoleArn(system: System, env: FlotillaEnvironment, key: string): string | undefined {
  if (env.platform !== 'eks' || env.identity !== 'irsa') return undefined;
  const grant = identityPlan(system, env).find((g) => g.key === key);
  return grant ? iamRoleArn(env, grant.roleName) : undefined;
}

/**
 * Annotations of the ServiceAccount of one identity of the plan: under IRSA `eks.amazonaws.com/role-arn`
 * with {@link irsaRoleArn}, otherwise none.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
 */
export function roleArnAnnotations(
  system: System,
  env: FlotillaEnvironment,
  key: string,
): Record<string, string> {
  const arn = irsaRoleArn(system, env, key);
  return arn ? { [ROLE_ARN_ANNOTATION]: arn } : {};
}

/**
 * Plain IAM JSON of an environment, relative to `dist/<env>/`: for each identity
 * `iam/<key>.policy.json` (permissions) and `iam/<key>.trust.json` (who may assume it: the Pod Identity
 * service, or under IRSA the cluster's OIDC provider for exactly the identity's ServiceAccount), plus
 * `iam/README.md`. Empty off EKS.
 */
export function iamPolicyFiles(system: System, environment: FlotillaEnvironment): Record<string, string> {
  if (environment.platform !== 'eks') return {};
  const files: Record<string, string> = {};
  const lines = [
    `# IAM for ${system.name} in ${environment.name}`,
    '',
    'Generated by `make synth` from the system model; do not edit. One role per row: attach',
    '`<key>.policy.json` to a role named as below, trusted as `<key>.trust.json` says (Pod Identity), or by',
    "the cluster's OIDC provider for the ServiceAccount (IRSA).",
    '',
    '| key | role | namespace/serviceaccount |',
    '| --- | --- | --- |',
  ];
  for (const grant of identityPlan(system, environment)) {
    files[`iam/${grant.key}.policy.json`] = `${JSON.stringify(grant.policy, null, 2)}\n`;
    const trust = trustPolicy(environment, grant.namespace, grant.serviceAccount);
    files[`iam/${grant.key}.trust.json`] = `${JSON.stringify(trust, null, 2)}\n`;
    lines.push(`| ${grant.key} | ${grant.roleName} | ${grant.namespace}/${grant.serviceAccount} |`);
  }
  files['iam/boundary.policy.json'] = `${JSON.stringify(boundaryPolicy(system, environment), null, 2)}\n`;
  lines.push(
    '',
    `Every role has the permissions boundary \`${boundaryPolicyName(system.name, environment)}\` (\`boundary.policy.json\`).`,
  );
  files['iam/README.md'] = `${lines.join('\n')}\n`;
  return files;
}
