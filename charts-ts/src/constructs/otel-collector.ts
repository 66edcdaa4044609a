/**
 * The OpenTelemetry collector every service exports traces and metrics to (`OTEL_EXPORTER_OTLP_ENDPOINT`
 * = `otlpEndpoint(namespace)`): Deployment + Service + ConfigMap + ServiceAccount + the RBAC the
 * k8sattributes processor needs. On EKS it exports traces to X-Ray (awsxray) and metrics as CloudWatch
 * embedded metric format logs (awsemf); in kind it prints them (debug).
 * @see https://opentelemetry.io/docs/collector/configuration/
 */
import type { System } from '@flotilla/model';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { componentLabels } from '../labels.js';
import { componentContainerSecurityContext, componentPodSecurityContext } from './hardening.js';
import { stringify } from 'yaml';
import { LABEL, OTEL_COLLECTOR } from '../environments/names.js';
import type { FlotillaEnvironment } from '../environments/types.js';
import type { PolicyDocument } from './identity.js';
import { LOG_RETENTION_DAYS, logGroupArn } from './logging.js';
import { COLLECTOR_IMAGE } from './collector-distribution.js';

/** UID of the contrib image's user. */
const COLLECTOR_UID = 10001;

/** Port of the health_check extension (probes). */
const HEALTH_PORT = 13133;

/** CloudWatch Logs group awsemf writes a system's metrics to. */
export function metricsLogGroup(system: string, env: Pick<FlotillaEnvironment, 'name'>): string {
  return `/flotilla/${system}/${env.name}/metrics`;
}

/** CloudWatch metric namespace of a system. @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Namespace */
export function metricNamespace(system: string): string {
  return `Flotilla/${system}`;
}

/**
 * The collector's IAM permissions on EKS:
 * - X-Ray, as the AWSXRayDaemonWriteAccess managed policy grants them; X-Ray has no resource-level
 *   permissions for these actions, so the resource is `*`.
 *   @see https://docs.aws.amazon.com/xray/latest/devguide/security_iam_id-based-policy-examples.html
 * - CloudWatch Logs on the one metrics log group: awsemf sends metrics as EMF log events (PutLogEvents),
 *   creating the group and stream on first use; it does not call cloudwatch:PutMetricData.
 *   @see https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/exporter/awsemfexporter
 */
export function collectorPolicy(
  system: System,
  env: FlotillaEnvironment & { platform: 'eks' },
): PolicyDocument {
  const group = logGroupArn(env, metricsLogGroup(system.name, env));
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'XRayWrite',
        Effect: 'Allow',
        Action: [
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:GetSamplingStatisticSummaries',
        ],
        Resource: ['*'],
      },
      {
        Sid: 'EmfLogs',
        Effect: 'Allow',
        // PutRetentionPolicy: awsemf sets `log_retention` on the group it creates.
        Action: [
          'logs:CreateLogGroup',
          'logs:PutRetentionPolicy',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        Resource: [group, `${group}:log-stream:*`],
      },
    ],
  };
}

/**
 * The metrics the services emit that become CloudWatch metrics, and the only dimensions they get: the
 * service, the route template and the status class — each bounded, so the number of custom metrics is
 * too (every other attribute, pod uid or host id among them, stays a field of the EMF log event, never a
 * dimension; EMF allows 30 dimensions at most).
 * @see https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/exporter/awsemfexporter#metric_declaration
 */
export const EMF_METRICS = {
  metricNames: ['^http\\.server\\.request\\.duration$'],
  dimensions: [
    ['service.name', 'http.route', 'http.response.status_class'],
    ['service.name', 'http.response.status_class'],
  ],
} as const;

/** Name of the processor that adds `http.response.status_class` (2xx..5xx) from the status code. */
const STATUS_CLASS_PROCESSOR = 'transform/status_class';

/**
 * OTTL statements deriving the status class from `http.response.status_code`: a bounded dimension in place
 * of the code itself. Paths carry their context (`datapoint.`): the collector rewrites unprefixed ones,
 * and says so at every start.
 * @see https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/transformprocessor
 */
function statusClassStatements(): string[] {
  return [2, 3, 4, 5].map(
    (c) =>
      `set(datapoint.attributes["http.response.status_class"], "${c}xx") where datapoint.attributes["http.response.status_code"] >= ${c}00 and datapoint.attributes["http.response.status_code"] < ${c + 1}00`,
  );
}

/** The collector configuration of an environment (what goes into the ConfigMap). */
export function collectorConfig(system: System, env: FlotillaEnvironment): Record<string, unknown> {
  const eks = env.platform === 'eks';
  const processors = ['memory_limiter', 'k8s_attributes', 'resource_detection', 'batch'];
  const metricProcessors = eks ? [...processors.slice(0, -1), STATUS_CLASS_PROCESSOR, 'batch'] : processors;
  return {
    receivers: {
      otlp: {
        protocols: {
          // Explicitly every interface: since v0.104 the default endpoint is localhost, unreachable from pods.
          grpc: { endpoint: `0.0.0.0:${OTEL_COLLECTOR.grpcPort}` },
          http: { endpoint: `0.0.0.0:${OTEL_COLLECTOR.httpPort}` },
        },
      },
    },
    processors: {
      // First in every pipeline: refuse data before the process runs out of memory.
      memory_limiter: { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 25 },
      // Named k8s_attributes since 0.161.0; the old name `k8sattributes` is a deprecated alias.
      k8s_attributes: {
        auth_type: 'serviceAccount',
        extract: {
          metadata: [
            'k8s.namespace.name',
            'k8s.pod.name',
            'k8s.pod.uid',
            'k8s.deployment.name',
            'k8s.node.name',
          ],
          labels: [{ tag_name: 'service.component', key: LABEL.component, from: 'pod' }],
        },
        pod_association: [
          { sources: [{ from: 'resource_attribute', name: 'k8s.pod.ip' }] },
          { sources: [{ from: 'connection' }] },
        ],
      },
      // Named resource_detection since 0.161.0; the old name `resourcedetection` is a deprecated alias.
      resource_detection: {
        // eks and ec2 query AWS (instance metadata); in kind they would only time out.
        detectors: eks ? ['env', 'eks', 'ec2'] : ['env'],
        timeout: '5s',
        override: false,
      },
      batch: { send_batch_size: 512, timeout: '5s' },
      ...(eks
        ? {
            [STATUS_CLASS_PROCESSOR]: {
              metric_statements: [{ context: 'datapoint', statements: statusClassStatements() }],
            },
          }
        : {}),
    },
    exporters: eks
      ? {
          awsxray: { region: env.region, indexed_attributes: ['deployment.environment.name'] },
          awsemf: {
            region: env.region,
            namespace: metricNamespace(system.name),
            log_group_name: metricsLogGroup(system.name, env),
            // A fixed stream: awsemf's placeholders name attributes only ECS or the collector set.
            log_stream_name: 'metrics',
            log_retention: LOG_RETENTION_DAYS,
            // Resource attributes (service.name) become labels, but only the declared ones dimensions.
            // `included: ['*']` is what the deprecated `enabled: true` meant.
            resource_to_telemetry_conversion: { included: ['*'] },
            dimension_rollup_option: 'NoDimensionRollup',
            metric_declarations: [
              {
                metric_name_selectors: [...EMF_METRICS.metricNames],
                dimensions: EMF_METRICS.dimensions.map((set) => [...set]),
              },
            ],
          },
        }
      : { debug: { verbosity: 'basic' } },
    extensions: { health_check: { endpoint: `0.0.0.0:${HEALTH_PORT}` } },
    service: {
      extensions: ['health_check'],
      pipelines: {
        traces: { receivers: ['otlp'], processors, exporters: [eks ? 'awsxray' : 'debug'] },
        metrics: { receivers: ['otlp'], processors: metricProcessors, exporters: [eks ? 'awsemf' : 'debug'] },
      },
    },
  };
}

/** Props of {@link OtelCollector}. */
export interface OtelCollectorProps {
  /** The validated system. */
  readonly system: System;
  /** The environment. */
  readonly environment: FlotillaEnvironment;
  /**
   * Container image.
   * @default COLLECTOR_IMAGE
   */
  readonly image?: string;
  /**
   * Annotations of the collector's ServiceAccount (the IRSA role ARN).
   * @default - none
   */
  readonly serviceAccountAnnotations?: Record<string, string>;
  /**
   * Replicas. The collector is stateless (batching only), so more replicas only add capacity.
   * @default 2 on EKS, 1 in kind
   */
  readonly replicas?: number;
}

/** The system's OpenTelemetry collector, named {@link OTEL_COLLECTOR}.name in the system namespace. */
export class OtelCollector extends Construct {
  constructor(scope: Construct, id: string, props: OtelCollectorProps) {
    super(scope, id);
    const env = props.environment;
    const name = OTEL_COLLECTOR.name;
    const { labels, selector } = componentLabels(props.system.name, name, 'telemetry');
    const metadata = { name, namespace: env.namespace, labels };

    new ApiObject(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      // cdk8s leaves out empty annotations (pod identity, kind): no role ARN, no annotations field.
      metadata: { ...metadata, annotations: props.serviceAccountAnnotations },
    });
    // k8sattributes watches pods (and namespaces, and replicasets to name the Deployment) cluster-wide.
    const clusterRoleName = `${env.namespace}-${name}`;
    new ApiObject(this, 'ClusterRole', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: clusterRoleName, labels },
      rules: [
        { apiGroups: [''], resources: ['pods', 'namespaces', 'nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
      ],
    });
    new ApiObject(this, 'ClusterRoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: clusterRoleName, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName },
      subjects: [{ kind: 'ServiceAccount', name, namespace: env.namespace }],
    });
    new ApiObject(this, 'ConfigMap', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata,
      data: { 'config.yaml': stringify(collectorConfig(props.system, env), { lineWidth: 0 }) },
    });
    new ApiObject(this, 'Service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [
          {
            name: 'otlp-grpc',
            port: OTEL_COLLECTOR.grpcPort,
            targetPort: 'otlp-grpc',
            protocol: 'TCP',
            appProtocol: 'grpc',
          },
          {
            name: 'otlp-http',
            port: OTEL_COLLECTOR.httpPort,
            targetPort: 'otlp-http',
            protocol: 'TCP',
            appProtocol: 'http',
          },
        ],
      },
    });
    new ApiObject(this, 'Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: {
        replicas: props.replicas ?? (env.platform === 'eks' ? 2 : 1),
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            securityContext: componentPodSecurityContext(COLLECTOR_UID),
            containers: [
              {
                name: 'otel-collector',
                image: props.image ?? COLLECTOR_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args: ['--config=/conf/config.yaml'],
                env: [
                  // The Go runtime collects garbage before the container limit is reached.
                  { name: 'GOMEMLIMIT', value: '400MiB' },
                  { name: 'K8S_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  ...(env.platform === 'eks' ? [{ name: 'AWS_REGION', value: env.region }] : []),
                ],
                ports: [
                  { name: 'otlp-grpc', containerPort: OTEL_COLLECTOR.grpcPort, protocol: 'TCP' },
                  { name: 'otlp-http', containerPort: OTEL_COLLECTOR.httpPort, protocol: 'TCP' },
                  { name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP' },
                ],
                // Alive: the health_check extension answers. Ready: the OTLP receiver accepts connections
                // (a collector still starting its pipelines is alive but must not get traffic yet).
                livenessProbe: {
                  httpGet: { path: '/', port: 'health' },
                  periodSeconds: 10,
                  failureThreshold: 6,
                },
                readinessProbe: { tcpSocket: { port: 'otlp-grpc' }, periodSeconds: 5, failureThreshold: 2 },
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
                securityContext: componentContainerSecurityContext(),
                volumeMounts: [{ name: 'config', mountPath: '/conf', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name } }],
          },
        },
      },
    });
    // A node drain evicts one collector at a time, so spans keep flowing to the other replica.
    new ApiObject(this, 'Disruption', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata,
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: selector },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}
