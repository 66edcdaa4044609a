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
 * | discovery | cluster DNS | cluster DNS, or Cloud Map ServiceExports |
 */
import { usesMessaging, type System } from '@flotilla/model';
import type { Construct } from 'constructs';
import { CloudMapExports } from './constructs/cloudmap.js';
import { ExternalDatabaseSecrets, LocalPostgres } from './constructs/database.js';
import { MessagingEmulator } from './constructs/emulator.js';
import { WorkloadIdentity } from './constructs/identity.js';
import { AckMessaging } from './constructs/messaging.js';
import { OtelCollector } from './constructs/otel-collector.js';
import type { FlotillaEnvironment } from './environments/types.js';
import { identityPlan, PLATFORM_IDENTITY, roleArnAnnotations } from './iam-json.js';

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
    });
  }
  new ExternalDatabaseSecrets(scope, 'Databases', { system, environment: env });
  new CloudMapExports(scope, 'CloudMap', { system, environment: env });
}
