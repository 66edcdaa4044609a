/**
 * Names and addresses both halves of the charts (and the environment files) must agree on. Each is
 * computed here once; constructs call these functions instead of formatting strings themselves.
 */
import { clusterServiceUrl } from '@flotilla/model';
import type { EksEnvironment, FlotillaEnvironment } from './types.js';

/** Label keys of the recommended Kubernetes labels. @see https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/ */
export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  version: 'app.kubernetes.io/version',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** `app.kubernetes.io/managed-by` of everything Flotilla synthesizes. */
export const MANAGED_BY = 'flotilla';

/**
 * `app.kubernetes.io/component` of a service's own objects (its Deployment, Service, ServiceAccount,
 * autoscalers, disruption budget). `flotilla deploy` applies them after the platform objects they use.
 */
export const SERVICE_COMPONENT = 'service';

/** The OpenTelemetry collector every service exports to (one per system, in the system namespace). */
export const OTEL_COLLECTOR = {
  /** Name of the collector's Deployment, Service and ServiceAccount, and its `app.kubernetes.io/name`. */
  name: 'otel-collector',
  /** OTLP/gRPC port. @see https://opentelemetry.io/docs/specs/otlp/#otlpgrpc-default-port */
  grpcPort: 4317,
  /** OTLP/HTTP port. @see https://opentelemetry.io/docs/specs/otlp/#otlphttp-default-port */
  httpPort: 4318,
} as const;

/** OTLP/HTTP endpoint of the collector in a namespace: what `OTEL_EXPORTER_OTLP_ENDPOINT` holds. */
export function otlpEndpoint(namespace: string): string {
  return clusterServiceUrl(OTEL_COLLECTOR.name, namespace, OTEL_COLLECTOR.httpPort);
}

/** The SQS/SNS emulator of kind environments (Deployment + Service, `app.kubernetes.io/name` = name). */
export const MESSAGING_EMULATOR = {
  name: 'messaging-emulator',
  port: 4566,
} as const;

/** Base URL of the messaging emulator in a namespace: what `runtime.messagingEndpoint` holds in kind. */
export function messagingEmulatorEndpoint(namespace: string): string {
  return clusterServiceUrl(MESSAGING_EMULATOR.name, namespace, MESSAGING_EMULATOR.port);
}

/**
 * PostgreSQL in kind environments. Every Postgres pod carries `app.kubernetes.io/name: postgres` (one
 * server, or one per service with `app.kubernetes.io/instance: <service>`); NetworkPolicies select it so.
 */
export const POSTGRES = {
  name: 'postgres',
  port: 5432,
} as const;

/** Name of a service's ServiceAccount (also the subject of its Pod Identity association / IRSA role). */
export function serviceAccountName(service: string): string {
  return service;
}

/** Name of a service's IAM role in an environment: `<system>-<env>-<service>`. */
export function iamRoleName(system: string, env: Pick<FlotillaEnvironment, 'name'>, service: string): string {
  return `${system}-${env.name}-${service}`;
}

/** The `alb.ingress.kubernetes.io/group.name` of an EKS environment's shared ALB. */
export function albGroupName(system: string, env: FlotillaEnvironment): string {
  return (env.platform === 'eks' ? env.alb.groupName : undefined) ?? `${system}-${env.name}`;
}

/**
 * Full image reference of a service in an environment: `<registry>/<image>:<tag>` (no registry in kind),
 * followed by `@<digest>` when the environment pins the service's digest (`image.digests`).
 */
export function imageRef(
  env: Pick<FlotillaEnvironment, 'image'>,
  service: { readonly name: string; readonly image: string },
): string {
  const registry = env.image.registry.replace(/\/+$/, '');
  const digest = env.image.digests?.[service.name];
  return `${registry ? `${registry}/` : ''}${service.image}:${env.image.tag}${digest ? `@${digest}` : ''}`;
}

/** ARN of an IAM role by name in an EKS environment's account (IAM ARNs are deterministic). */
export function iamRoleArn(env: Pick<EksEnvironment, 'accountId'>, roleName: string): string {
  return `arn:aws:iam::${env.accountId}:role/${roleName}`;
}
