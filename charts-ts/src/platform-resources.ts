/**
 * The AWS and CRD half of a system chart: telemetry, messaging, identity, databases and discovery,
 * chosen by the environment's platform. `system-chart.ts` calls this once per environment, into the
 * platform chart (`10-platform.k8s.yaml`), which Argo CD syncs before the services.
 *
 * | | kind | EKS |
 * | --- | --- | --- |
 * | telemetry | collector, debug exporter | collector -> X-Ray + CloudWatch EMF |
 * | messaging | fauxqs emulator with the model's queues/topics | ACK Topic/Queue/Subscription |
 * | identity | none | ACK IAM Policy/Role (+ Pod Identity association) per service and add-on |
 * | database | Postgres StatefulSet + Secret per service | ExternalSecret per service |
 * | discovery | cluster DNS | cluster DNS, or Cloud Map registration (ExternalDNS, headless Services) |
 *
 * On EKS Argo CD syncs the file in resource waves ({@link PLATFORM_WAVE}): ACK creates an IAM Policy, then
 * the Role that references it, then the Pod Identity association asynchronously, and Pod Identity is
 * injected only when a pod is admitted, so the collector's pods are created only once their association
 * is synced (Argo CD's ACK health checks, `argocd.ts`). Every ACK object carries the `retain` deletion
 * policy, so deleting or pruning it never deletes the AWS resource (see charts-ts/README.md, "Deleting").
 */
import { usesMessaging, type System } from '@flotilla/model';
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { Policy } from '../imports/iam.services.k8s.aws.js';
import { CloudMapRegistration } from './constructs/cloudmap.js';
import { ExternalDatabaseSecrets, LocalPostgres } from './constructs/database.js';
import { MessagingEmulator } from './constructs/emulator.js';
import { WorkloadIdentity } from './constructs/identity.js';
import { AckMessaging } from './constructs/messaging.js';
import { OtelCollector } from './constructs/otel-collector.js';
import type { FlotillaEnvironment } from './environments/types.js';
import {
  boundaryPolicy,
  boundaryPolicyArn,
  boundaryPolicyName,
  identityPlan,
  PLATFORM_IDENTITY,
  roleArnAnnotations,
} from './iam-json.js';

/**
 * Argo CD resource waves inside the platform file on EKS: each wave is synced and healthy before the next.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
 */
export const PLATFORM_WAVE = { policies: 0, roles: 1, associations: 2, workloads: 3 } as const;

/** The wave of an object of the platform file, by kind. */
function platformWave(obj: ApiObject): number | undefined {
  if (obj.apiVersion.startsWith('iam.services.k8s.aws/'))
    return obj.kind === 'Role' ? PLATFORM_WAVE.roles : PLATFORM_WAVE.policies;
  if (obj.kind === 'PodIdentityAssociation') return PLATFORM_WAVE.associations;
  if (obj.kind === 'Deployment' || obj.kind === 'StatefulSet') return PLATFORM_WAVE.workloads;
  return undefined;
}

/**
 * ACK's per-resource deletion policy: `retain` keeps the AWS resource (queue and its messages, DLQ,
 * topic, IAM role) when the Kubernetes object is deleted, e.g. pruned by Argo CD after a rename.
 * @see https://aws-controllers-k8s.github.io/community/docs/user-docs/deletion-policy/
 */
export const ACK_DELETION_POLICY = { 'services.k8s.aws/deletion-policy': 'retain' } as const;

/** Marks every ACK object below `scope` `retain`, and gives identities and workloads their wave. */
function orderAndRetain(scope: Construct): void {
  for (const child of scope.node.findAll()) {
    if (!(child instanceof ApiObject)) continue;
    if (child.apiVersion.includes('.services.k8s.aws/'))
      for (const [k, v] of Object.entries(ACK_DELETION_POLICY)) child.metadata.addAnnotation(k, v);
    const wave = platformWave(child);
    if (wave !== undefined) child.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(wave));
  }
}

/** What {@link addPlatformResources} needs to know. */
export interface PlatformResourcesContext {
  /** The validated system model. */
  readonly system: System;
  /** The environment being synthesized. */
  readonly environment: FlotillaEnvironment;
}

/** Adds every platform resource of the environment to `scope`. */
export function addPlatformResources(scope: Construct, ctx: PlatformResourcesContext): void {
  const { system, environment: env } = ctx;
  if (env.platform === 'kind') {
    new OtelCollector(scope, 'OtelCollector', { system, environment: env });
    if (system.services.some(usesMessaging)) {
      new MessagingEmulator(scope, 'MessagingEmulator', { system, environment: env });
    }
    new LocalPostgres(scope, 'Postgres', { system, environment: env });
    return;
  }

  new OtelCollector(scope, 'OtelCollector', {
    system,
    environment: env,
    serviceAccountAnnotations: roleArnAnnotations(system, env, PLATFORM_IDENTITY.collector),
  });
  new AckMessaging(scope, 'Messaging', { system, environment: env });
  // The boundary every role gets: nothing attached to a role later can reach beyond the system.
  new Policy(scope, 'PermissionsBoundary', {
    metadata: { name: boundaryPolicyName(system.name, env), namespace: env.namespace },
    spec: {
      name: boundaryPolicyName(system.name, env),
      description: `Flotilla ${system.name}/${env.name}: permissions boundary of every role`,
      policyDocument: JSON.stringify(boundaryPolicy(system, env)),
    },
  });
  // One role per identity; under IRSA each trusts the cluster's OIDC provider for its ServiceAccount,
  // which carries the role ARN (`roleArnAnnotations`, or the add-on's Helm values in argocd.ts).
  for (const grant of identityPlan(system, env)) {
    new WorkloadIdentity(scope, `identity-${grant.key}`, {
      environment: env,
      roleName: grant.roleName,
      namespace: grant.namespace,
      serviceAccount: grant.serviceAccount,
      policy: grant.policy,
      description: grant.description,
      // ACK resources live with the system; the association still names the add-on's own namespace.
      ackNamespace: env.namespace,
      permissionsBoundaryArn: boundaryPolicyArn(system.name, env),
    });
  }
  new ExternalDatabaseSecrets(scope, 'Databases', { system, environment: env });
  new CloudMapRegistration(scope, 'CloudMap', { system, environment: env });
  orderAndRetain(scope);
}
