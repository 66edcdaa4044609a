/**
 * Least-privilege AWS identity per service, derived from the model: the IAM policy grants exactly the
 * queues and topics the service declares, nothing else. Emitted as ACK IAM `Policy` + `Role` and, with
 * Pod Identity, an ACK EKS `PodIdentityAssociation`; with IRSA, the role trusts the cluster's OIDC
 * provider for its ServiceAccount, which carries the role ARN (`roleArnAnnotations` in `iam-json.ts`).
 * @see https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
 * @see https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
 */
import { messagingResources, queueArn, queueName, topicArn, topicName, type System } from '@flotilla/model';
import { Construct } from 'constructs';
import { PodIdentityAssociation } from '../../imports/eks.services.k8s.aws.js';
import { Policy, Role } from '../../imports/iam.services.k8s.aws.js';
import { iamRoleArn } from '../environments/names.js';
import type { EksEnvironment, FlotillaEnvironment } from '../environments/types.js';

/** One statement of an IAM policy document. @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html */
export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/** What a consumer needs on each queue it consumes. @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html */
export const CONSUMER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
] as const;

/**
 * The IAM policy of one service in an environment, or `undefined` when the service needs no AWS access.
 * - `sns:Publish` on each topic it publishes to;
 * - `sqs:SendMessage` on each command queue it sends to;
 * - receive/delete/change visibility/get attributes on each queue it consumes, and `sqs:SendMessage` on
 *   those queues' DLQs (the runtime dead-letters a message that fails validation at once);
 * - `servicediscovery:DiscoverInstances` when the environment discovers peers through Cloud Map and the
 *   service calls any. The action has no resource type, so `*` narrowed by the namespace condition.
 *   @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html
 */
export function servicePolicy(
  system: System,
  env: FlotillaEnvironment,
  serviceName: string,
): PolicyDocument | undefined {
  const service = system.service(serviceName);
  const runtime = env.runtime;
  const statements: PolicyStatement[] = [];
  if (service.publishes.length > 0) {
    statements.push({
      Sid: 'PublishTopics',
      Effect: 'Allow',
      Action: ['sns:Publish'],
      Resource: service.publishes.map((t) => topicArn(runtime, topicName(system.name, runtime, t))),
    });
  }
  if (service.sends.length > 0) {
    statements.push({
      Sid: 'SendCommands',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: service.sends.map((s) =>
        queueArn(runtime, queueName(system.name, runtime, s.service, s.queue)),
      ),
    });
  }
  const consumed = messagingResources(system, runtime).queues.filter((q) => q.service === service.name);
  if (consumed.length > 0) {
    statements.push({
      Sid: 'ConsumeQueues',
      Effect: 'Allow',
      Action: [...CONSUMER_ACTIONS],
      Resource: consumed.map((q) => q.arn),
    });
    statements.push({
      Sid: 'DeadLetter',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: consumed.map((q) => q.dlq.arn),
    });
  }
  if (runtime.discovery.method === 'cloudmap' && service.calls.length > 0) {
    statements.push({
      Sid: 'DiscoverPeers',
      Effect: 'Allow',
      Action: ['servicediscovery:DiscoverInstances'],
      Resource: ['*'],
      Condition: { StringEquals: { 'servicediscovery:NamespaceName': runtime.discovery.namespace } },
    });
  }
  return statements.length > 0 ? { Version: '2012-10-17', Statement: statements } : undefined;
}

/**
 * Trust policy of a service role assumed through EKS Pod Identity: the `pods.eks.amazonaws.com` service
 * principal with `sts:AssumeRole` and `sts:TagSession` (the agent tags sessions with pod attributes), on
 * behalf of this account's cluster only (`aws:SourceAccount`, `aws:SourceArn`), so no other account's
 * or cluster's association can use the role (the confused-deputy problem).
 * @see https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */
export function podIdentityTrustPolicy(
  env: Pick<EksEnvironment, 'accountId' | 'region' | 'clusterName'>,
): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowEksPodIdentity',
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: { 'aws:SourceAccount': env.accountId },
          ArnEquals: {
            'aws:SourceArn': `arn:aws:eks:${env.region}:${env.accountId}:cluster/${env.clusterName}`,
          },
        },
      },
    ],
  };
}

/**
 * Trust policy of a role assumed through IRSA: the cluster's OIDC provider (`env.oidcIssuer` without
 * `https://`, in the environment's account), for exactly one ServiceAccount (`sub`: its namespace and
 * name, which for an add-on is not the system's namespace) and the STS audience (`aud`).
 * @see https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
 */
export function irsaTrustPolicy(
  env: Pick<EksEnvironment, 'name' | 'accountId' | 'oidcIssuer'>,
  namespace: string,
  serviceAccount: string,
): object {
  if (!env.oidcIssuer)
    throw new Error(`environment "${env.name}": oidcIssuer is required for IRSA trust policies`);
  const issuer = env.oidcIssuer.replace(/^https:\/\//, '').replace(/\/+$/, '');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowServiceAccount',
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${env.accountId}:oidc-provider/${issuer}` },
        Action: ['sts:AssumeRoleWithWebIdentity'],
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  };
}

/**
 * The trust policy of a role for a ServiceAccount under the environment's identity method: the EKS Pod
 * Identity service, or (IRSA) the cluster's OIDC provider for exactly that ServiceAccount.
 */
export function trustPolicy(env: EksEnvironment, namespace: string, serviceAccount: string): object {
  return env.identity === 'pod-identity'
    ? podIdentityTrustPolicy(env)
    : irsaTrustPolicy(env, namespace, serviceAccount);
}

/** Props of {@link WorkloadIdentity}. */
export interface WorkloadIdentityProps {
  /** The EKS environment. */
  readonly environment: EksEnvironment;
  /** IAM role (and policy) name. @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html */
  readonly roleName: string;
  /** Namespace of the ServiceAccount the role is for. */
  readonly namespace: string;
  /** Name of the ServiceAccount the role is for. */
  readonly serviceAccount: string;
  /** The permissions. */
  readonly policy: PolicyDocument;
  /** A sentence on what the role is for (IAM `Description`). */
  readonly description: string;
  /**
   * Namespace of the ACK resources (the ACK controllers watch it).
   * @default - `namespace`
   */
  readonly ackNamespace?: string;
  /**
   * ARN of the managed policy that bounds the role: whatever a policy later attached to it grants, the
   * role can never do more than the boundary allows.
   * @default - no boundary
   * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
   */
  readonly permissionsBoundaryArn?: string;
}

/**
 * An IAM managed policy, a role that attaches it and (Pod Identity) the association of the role with a
 * ServiceAccount, all as ACK resources so a GitOps-only setup needs no Terraform. Under IRSA the role
 * trusts the OIDC provider of `environment.oidcIssuer` for exactly the ServiceAccount; the ServiceAccount
 * itself must carry the role ARN (`roleArnAnnotations`).
 */
export class WorkloadIdentity extends Construct {
  /** ARN the role will have (IAM ARNs are deterministic). */
  public readonly roleArn: string;

  constructor(scope: Construct, id: string, props: WorkloadIdentityProps) {
    super(scope, id);
    const env = props.environment;
    const ns = props.ackNamespace ?? props.namespace;
    this.roleArn = iamRoleArn(env, props.roleName);
    new Policy(this, 'Policy', {
      metadata: { name: props.roleName, namespace: ns },
      spec: {
        name: props.roleName,
        description: props.description,
        policyDocument: JSON.stringify(props.policy),
      },
    });
    const trust = trustPolicy(env, props.namespace, props.serviceAccount);
    new Role(this, 'Role', {
      metadata: { name: props.roleName, namespace: ns },
      spec: {
        name: props.roleName,
        description: props.description,
        assumeRolePolicyDocument: JSON.stringify(trust),
        // The Policy above, by reference: ACK resolves its ARN once it exists.
        policyRefs: [{ from: { name: props.roleName, namespace: ns } }],
        maxSessionDuration: 3600,
        ...(props.permissionsBoundaryArn ? { permissionsBoundary: props.permissionsBoundaryArn } : {}),
      },
    });
    if (env.identity !== 'pod-identity') return;
    new PodIdentityAssociation(this, 'Association', {
      metadata: { name: props.roleName, namespace: ns },
      spec: {
        clusterName: env.clusterName,
        namespace: props.namespace,
        serviceAccount: props.serviceAccount,
        roleRef: { from: { name: props.roleName, namespace: ns } },
      },
    });
  }
}
