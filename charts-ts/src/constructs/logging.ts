/**
 * Service logs on EKS: services log JSON lines to stdout (pino, with trace and span ids); AWS for Fluent
 * Bit, installed as an Argo CD Helm add-on, tails the container logs on every node and ships each
 * service's lines to its own CloudWatch Logs group, so a trace id found in X-Ray is searchable in the
 * service's logs. In kind, `kubectl logs` is the log store.
 * @see https://github.com/aws/aws-for-fluent-bit
 * @see https://docs.fluentbit.io/manual/pipeline/outputs/cloudwatch
 */
import type { System } from '@flotilla/model';
import { addon, requireMinimumVersion } from '../addons/index.js';
import { LABEL, OTEL_COLLECTOR } from '../environments/names.js';
import type { EksEnvironment, FlotillaEnvironment } from '../environments/types.js';
import type { PolicyDocument } from './identity.js';

/** Where the log shipper runs: its own namespace (it needs hostPath mounts, which `restricted` forbids). */
export const LOG_SHIPPER = {
  namespace: addon('aws-for-fluent-bit').namespace,
  /** ServiceAccount the aws-for-fluent-bit chart creates by default. */
  serviceAccount: 'aws-for-fluent-bit',
} as const;

/**
 * Days CloudWatch Logs keeps every group Flotilla creates (service logs and the collector's EMF metrics):
 * without a retention a group keeps its events forever.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention
 */
export const LOG_RETENTION_DAYS = 30;

/**
 * The first AWS for Fluent Bit release that authenticates with EKS Pod Identity (its credential chain
 * reads the Pod Identity agent's endpoint).
 * @see https://github.com/aws/aws-for-fluent-bit/pull/888
 */
export const FLUENT_BIT_POD_IDENTITY_VERSION = '2.32.5';

/**
 * Every workload of the system's namespace whose container logs the shipper tails: the services and
 * the platform components running there (the collector). Each logs to the group of its
 * `app.kubernetes.io/name`.
 */
export function loggedWorkloads(system: System): string[] {
  return [...system.services.map((s) => s.name), OTEL_COLLECTOR.name];
}

/** CloudWatch Logs group of one service: `/flotilla/<system>/<env>/<service>`. */
export function serviceLogGroup(
  system: string,
  env: Pick<FlotillaEnvironment, 'name'>,
  service: string,
): string {
  return `/flotilla/${system}/${env.name}/${service}`;
}

/** Group for lines of pods in the namespace that carry no service label (fallback of the template). */
export function fallbackLogGroup(system: string, env: Pick<FlotillaEnvironment, 'name'>): string {
  return `/flotilla/${system}/${env.name}/unlabelled`;
}

/** ARN of a CloudWatch Logs group in an EKS environment's account and region (append `:log-stream:*` for its streams). */
export function logGroupArn(env: Pick<EksEnvironment, 'region' | 'accountId'>, group: string): string {
  return `arn:aws:logs:${env.region}:${env.accountId}:log-group:${group}`;
}

/**
 * The shipper's permissions: create and write its groups and streams, and nothing else, on exactly one
 * group per logged workload (services and the collector, `loggedWorkloads`) plus the fallback group.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/permissions-reference-cwl.html
 */
export function logShipperPolicy(system: System, env: EksEnvironment): PolicyDocument {
  const groups = [
    ...loggedWorkloads(system).map((name) => serviceLogGroup(system.name, env, name)),
    fallbackLogGroup(system.name, env),
  ];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ServiceLogGroups',
        Effect: 'Allow',
        // PutRetentionPolicy: the shipper sets each group's retention when it creates it.
        Action: [
          'logs:CreateLogGroup',
          'logs:PutRetentionPolicy',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        Resource: groups.flatMap((g) => [logGroupArn(env, g), `${logGroupArn(env, g)}:log-stream:*`]),
      },
    ],
  };
}

/**
 * Helm values of the aws-for-fluent-bit chart: only the high-performance `cloudWatchLogs` output, one
 * group per service chosen by the pod's `app.kubernetes.io/name` label (record accessor template).
 * `serviceAccountAnnotations` go on the chart's ServiceAccount (`serviceAccount.annotations`): under
 * IRSA the role ARN (`roleArnAnnotations` in `iam-json.ts`). Under Pod Identity the pinned release
 * must support it (from {@link FLUENT_BIT_POD_IDENTITY_VERSION}): synthesis fails otherwise.
 * @see https://github.com/aws/eks-charts/tree/master/stable/aws-for-fluent-bit
 */
export function logShipperValues(
  system: System,
  env: EksEnvironment,
  serviceAccountAnnotations: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  if (env.identity === 'pod-identity')
    requireMinimumVersion(addon('aws-for-fluent-bit'), FLUENT_BIT_POD_IDENTITY_VERSION, 'EKS Pod Identity');
  return {
    serviceAccount: {
      create: true,
      name: LOG_SHIPPER.serviceAccount,
      ...(Object.keys(serviceAccountAnnotations).length > 0
        ? { annotations: { ...serviceAccountAnnotations } }
        : {}),
    },
    input: { path: `/var/log/containers/*_${env.namespace}_*.log` },
    cloudWatch: { enabled: false },
    firehose: { enabled: false },
    kinesis: { enabled: false },
    elasticsearch: { enabled: false },
    cloudWatchLogs: {
      enabled: true,
      region: env.region,
      logGroupName: fallbackLogGroup(system.name, env),
      logGroupTemplate: serviceLogGroup(system.name, env, `$kubernetes['labels']['${LABEL.name}']`),
      logStreamPrefix: 'pod-',
      autoCreateGroup: true,
      logRetentionDays: LOG_RETENTION_DAYS,
    },
  };
}
