/**
 * One service of the model as Kubernetes objects: Deployment, Service, ServiceAccount,
 * PodDisruptionBudget and its autoscaler (see `autoscaling.ts`). NetworkPolicies are derived for the
 * whole graph at once in `network-policies.ts`.
 */
import {
  HEALTH_PATHS,
  SERVICE_GID,
  SERVICE_UID,
  envFor,
  type EnvValue,
  type Service,
  type System,
} from '@flotilla/model';
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import { IntOrString, KubePodDisruptionBudget, Quantity } from 'cdk8s-plus-34/lib/imports/k8s.js';
import { Construct } from 'constructs';
import { imageRef, serviceAccountName } from '../environments/names.js';
import type { FlotillaEnvironment } from '../environments/types.js';
import { roleArnAnnotations } from '../iam-json.js';
import { selectorLabels, serviceLabels } from '../labels.js';
import { podShutdownTiming } from '../shutdown.js';
import { Autoscaling } from './autoscaling.js';

/** Name of the container port every service listens on (Service `targetPort`, probes). */
export const HTTP_PORT_NAME = 'http';

export interface MicroserviceProps {
  /** The validated system the service belongs to (its peers decide the service's env). */
  readonly system: System;
  /** The service, with every default of the model applied. */
  readonly service: Service;
  /** The environment being synthesized. */
  readonly environment: FlotillaEnvironment;
}

/** The Deployment, Service, ServiceAccount, PodDisruptionBudget and autoscaler of one service. */
export class Microservice extends Construct {
  /** The Deployment (named like the service). */
  readonly deployment: kplus.Deployment;
  /** The ClusterIP Service, named exactly like the service so peers reach it by DNS. */
  readonly kubeService: kplus.Service;
  /** Labels on every object and pod of the service. */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels selecting the service's pods. */
  readonly selector: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    const { system, service, environment: env } = props;
    const name = service.name;
    this.labels = serviceLabels({ system: system.name, service: name, version: env.image.tag });
    this.selector = selectorLabels(system.name, name);
    const metadata = { name, namespace: env.namespace, labels: this.labels };

    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: {
        ...metadata,
        name: serviceAccountName(name),
        // IRSA reads the role from this annotation; Pod Identity uses an association instead.
        annotations: roleArnAnnotations(system, env, name),
      },
      // Services never talk to the Kubernetes API. Pod Identity and IRSA mount their own projected
      // token, independent of this setting, so AWS credentials still work.
      automountToken: false,
    });

    const timing = podShutdownTiming(env.runtime);
    const port = service.port;
    const probe = (path: string, failureThreshold: number, periodSeconds: number) =>
      kplus.Probe.fromHttpGet(path, {
        port,
        failureThreshold,
        periodSeconds: Duration.seconds(periodSeconds),
        timeoutSeconds: Duration.seconds(2),
        initialDelaySeconds: Duration.seconds(0),
        successThreshold: 1,
      });

    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata,
      // cdk8s-plus would select pods by its own `cdk8s.io/metadata.addr` label; we select by the
      // recommended labels so `kubectl -l app.kubernetes.io/name=<service>` finds the same pods.
      select: false,
      podMetadata: { labels: this.labels },
      serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriod: Duration.seconds(timing.terminationGracePeriodSeconds),
      // Service links inject one variable per Service of the namespace: the env must be envFor's only.
      enableServiceLinks: false,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        // Never below the current capacity during a rollout; surge a quarter (at least one pod).
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
        maxSurge: kplus.PercentOrAbsolute.percent(25),
      }),
      revisionHistoryLimit: 5,
      securityContext: {
        ensureNonRoot: true,
        user: SERVICE_UID,
        group: SERVICE_GID,
        fsGroup: SERVICE_GID,
        fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
      },
      containers: [
        {
          name,
          image: imageRef(env, service),
          // kind: images come from `kind load`, never from a registry. EKS: tags are immutable (ECR
          // tag immutability, never `latest`) or the reference carries the digest (`image.digests`), so
          // a cached image is the right one and pod starts do not depend on the registry.
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          ports: [{ number: port, name: HTTP_PORT_NAME, protocol: kplus.Protocol.TCP }],
          envVariables: containerEnv(this, system, name, env),
          securityContext: {
            ensureNonRoot: true,
            user: SERVICE_UID,
            group: SERVICE_GID,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: [kplus.Capability.ALL] },
            seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
          },
          // Startup allows 60 s for a slow first start; liveness then only restarts a wedged process.
          startup: probe(HEALTH_PATHS.startup, 30, 2),
          readiness: probe(HEALTH_PATHS.ready, 2, 5),
          liveness: probe(HEALTH_PATHS.live, 3, 10),
          volumeMounts: [
            {
              path: '/tmp',
              volume: kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(64) }),
            },
          ],
        },
      ],
    });

    const api = ApiObject.of(this.deployment);
    api.addJsonPatch(
      // cdk8s-plus only takes numeric Cpu/Size objects; the model's quantities go in verbatim. It would
      // also add its own default requests and limits, which we never want.
      JsonPatch.replace('/spec/template/spec/containers/0/resources', containerResources(service)),
      // The `sleep` action (stable since Kubernetes 1.30) needs no `sleep` binary in the image.
      JsonPatch.add('/spec/template/spec/containers/0/lifecycle', {
        preStop: { sleep: { seconds: timing.preStopSleepSeconds } },
      }),
      // cdk8s-plus spreads with pod anti-affinity; topology spread constraints balance across zones
      // and nodes without making a pod unschedulable when a zone is full.
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
        spread('topology.kubernetes.io/zone', this.selector),
        spread('kubernetes.io/hostname', this.selector),
      ]),
      JsonPatch.add('/spec/selector', { matchLabels: this.selector }),
      // cdk8s-plus labels pods with its construct path (`cdk8s.io/metadata.addr`), which ends in a hash
      // and changes when code moves; nothing selects by it here.
      JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
      // Pod Security Admission `restricted` requires it; cdk8s-plus has no pod-level prop for it.
      JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }),
    );

    this.kubeService = new kplus.Service(this, 'Service', {
      metadata,
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: HTTP_PORT_NAME, port, targetPort: port, protocol: kplus.Protocol.TCP }],
    });
    // Select by the stable labels rather than through the Deployment, whose cdk8s-plus selector is off.
    ApiObject.of(this.kubeService).addJsonPatch(
      JsonPatch.add('/spec/selector', this.selector),
      // cdk8s-plus always writes an empty externalIPs list; leave the field unset like kubectl would.
      JsonPatch.remove('/spec/externalIPs'),
    );

    const bounds = env.replicas ?? service.replicas;
    new KubePodDisruptionBudget(this, 'Disruption', {
      metadata,
      spec: {
        // One pod at a time may be evicted: with maxUnavailable (unlike minAvailable) a single-replica
        // service never blocks a node drain forever.
        maxUnavailable: IntOrString.fromNumber(1),
        selector: { matchLabels: this.selector },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });

    new Autoscaling(this, 'Autoscaling', {
      system,
      service,
      environment: env,
      deployment: this.deployment,
      bounds,
      labels: this.labels,
    });
  }
}

function spread(topologyKey: string, selector: Record<string, string>) {
  return {
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
  };
}

function containerResources(service: Service) {
  const { cpu, memory } = service.resources;
  // Quantity objects, not strings: the generated KubeDeployment serializer drops plain strings here.
  const requests = { cpu: Quantity.fromString(cpu.request), memory: Quantity.fromString(memory.request) };
  const limits: Record<string, Quantity> = { memory: Quantity.fromString(memory.limit) };
  if (cpu.limit) limits.cpu = Quantity.fromString(cpu.limit);
  return { requests, limits };
}

/** `envFor`'s variables as container env, exactly: literals, Secret keys and downward-API fields. */
function containerEnv(scope: Construct, system: System, service: string, env: FlotillaEnvironment) {
  const out: Record<string, kplus.EnvValue> = {};
  for (const [key, value] of Object.entries(envFor(system, service, env.runtime))) {
    out[key] = toEnvValue(scope, key, value);
  }
  return out;
}

function toEnvValue(scope: Construct, key: string, value: EnvValue): kplus.EnvValue {
  if (typeof value === 'string') return kplus.EnvValue.fromValue(value);
  if ('secret' in value) {
    const secret = kplus.Secret.fromSecretName(scope, `Secret-${key}`, value.secret.name);
    return kplus.EnvValue.fromSecretValue({ secret, key: value.secret.key }, { optional: false });
  }
  return kplus.EnvValue.fromFieldRef(FIELD_PATHS[value.field]);
}

const FIELD_PATHS: Record<Exclude<EnvValue, string | { secret: unknown }>['field'], kplus.EnvFieldPaths> = {
  'metadata.name': kplus.EnvFieldPaths.POD_NAME,
  'metadata.namespace': kplus.EnvFieldPaths.POD_NAMESPACE,
  'spec.nodeName': kplus.EnvFieldPaths.NODE_NAME,
};
