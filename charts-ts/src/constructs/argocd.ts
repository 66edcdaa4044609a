/**
 * GitOps with Argo CD: an app-of-apps per environment. A root Application (applied once by hand) syncs
 * `dist/<env>/argocd/apps.k8s.yaml`, which holds two AppProjects and one Application per platform
 * add-on (Helm, pinned chart versions), per platform chart and per service. Every Application reads
 * the rendered, committed `dist/<env>/` from git (see charts-ts/README.md, "GitOps"), one file each, so
 * a commit that changes one service's file (e.g. its image tag) syncs that service alone.
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/cluster-bootstrapping/
 */
import type { System } from '@flotilla/model';
import { posix } from 'node:path';
import { ApiObject, Chart, type App, type GroupVersionKind } from 'cdk8s';
import { Construct } from 'constructs';
import { PodIdentityAssociation } from '../../imports/eks.services.k8s.aws.js';
import { Policy, Role } from '../../imports/iam.services.k8s.aws.js';
import { Subscription, Topic } from '../../imports/sns.services.k8s.aws.js';
import { Queue } from '../../imports/sqs.services.k8s.aws.js';
import {
  Application,
  AppProject,
  type ApplicationSpecIgnoreDifferences,
  type AppProjectSpecClusterResourceWhitelist,
} from '../../imports/argoproj.io.js';
import { addon, chartOf, type AddonName, type HelmChart } from '../addons/index.js';
import { LABEL, MANAGED_BY } from '../environments/names.js';
import type { EksEnvironment, FlotillaEnvironment } from '../environments/types.js';
import { irsaRoleArn, PLATFORM_IDENTITY, roleArnAnnotations } from '../iam-json.js';
import { cloudMapNamespace, externalDnsValues } from './cloudmap.js';
import { EXTERNAL_SECRETS } from './database.js';
import { logShipperValues } from './logging.js';

/** Where Argo CD finds the rendered manifests. */
export interface GitOpsSettings {
  /**
   * Git repository holding the rendered `dist/`.
   * @see https://argo-cd.readthedocs.io/en/stable/user-guide/private-repositories/
   */
  readonly repoUrl: string;
  /** Branch, tag or commit Argo CD tracks. @default 'main' */
  readonly targetRevision?: string;
  /** Folder of the rendered environments inside the repository. @default 'dist' */
  readonly manifestsRoot?: string;
  /** Namespace Argo CD runs in. @default 'argocd' */
  readonly argoNamespace?: string;
}

/** The repository of this project; a placeholder to replace, like the account ids of the environments. */
export const DEFAULT_GITOPS: GitOpsSettings = { repoUrl: 'https://github.com/example/flotilla.git' };

/**
 * Sync waves of the apps file: lower waves are synced (and, with the health checks of
 * {@link argoCdSettings}, healthy) before higher ones start. First the projects and Argo CD's own
 * settings every Application needs, then the add-ons (CRDs, controllers), the namespace, queues,
 * identities and the collector, the services, and last the ALB.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
 */
export const SYNC_WAVE = {
  projects: -5,
  addons: -4,
  namespace: -3,
  platform: -2,
  services: 0,
  ingress: 1,
} as const;

/** One Helm chart an add-on Application installs, with its values. */
export interface HelmSource {
  /** Helm release name: the add-on's name in the table. */
  readonly releaseName: string;
  /** The chart and its pinned version (from the add-on table). */
  readonly chart: HelmChart;
  /** Helm values. */
  readonly values: Record<string, unknown>;
}

/** A platform add-on Application: one or more pinned Helm charts installed into one namespace. */
export interface HelmAddon {
  /** Application name (prefixed by system and environment). */
  readonly name: string;
  /** Namespace the releases are installed into. */
  readonly namespace: string;
  /**
   * The charts. Several charts in one Application (the ACK controllers) share the CRDs they all ship:
   * rendered by one Application they have one owner (Argo CD applies a repeated resource once, the last
   * source's, with a RepeatedResourceWarning), instead of four Applications fighting over them.
   * @see https://argo-cd.readthedocs.io/en/stable/user-guide/multiple_sources/
   */
  readonly sources: readonly HelmSource[];
  /**
   * Leave out the charts' CRDs (the add-on's custom resources are not used).
   * @default false
   */
  readonly skipCrds?: boolean;
}

/** The ACK controllers, in source order: the last one's copies of the shared CRDs win (the newest runtime). */
const ACK_CONTROLLERS = ['sqs', 'sns', 'eks', 'iam'] as const;

/**
 * The add-ons an EKS environment needs, each chart pinned in the add-on table (`src/addons/table.ts`),
 * the only place a version is written. Not here: the OTel collector (Flotilla renders its own, see
 * OtelCollector); the IAM roles of the ALB and ACK controllers, which need account-level policies (see
 * charts-ts/README.md).
 *
 * Under IRSA, the add-ons with an identity of the plan (KEDA, external-secrets, aws-for-fluent-bit,
 * external-dns) get their role ARN on their ServiceAccount the way each chart documents it: KEDA's
 * `podIdentity.aws.irsa.roleArn` (annotated on its operator's ServiceAccount), the others'
 * `serviceAccount.annotations`. Under Pod Identity the associations need nothing in the values.
 * @see https://github.com/kedacore/charts/tree/main/keda
 * @see https://github.com/external-secrets/external-secrets/tree/main/deploy/charts/external-secrets
 */
export function helmAddons(system: System, env: EksEnvironment): HelmAddon[] {
  const single = (
    name: AddonName,
    values: Record<string, unknown>,
    extra: Partial<Pick<HelmAddon, 'skipCrds'>> = {},
  ): HelmAddon => ({
    name,
    namespace: addon(name).namespace,
    sources: [{ releaseName: name, chart: chartOf(name), values }],
    ...extra,
  });
  const kedaArn = irsaRoleArn(system, env, PLATFORM_IDENTITY.keda);
  const kedaRoleArn = kedaArn ? { roleArn: kedaArn } : {};
  const secretsSa = roleArnAnnotations(system, env, PLATFORM_IDENTITY.externalSecrets);
  const externalSecretsAnnotations = Object.keys(secretsSa).length > 0 ? { annotations: secretsSa } : {};
  const ackController = (service: (typeof ACK_CONTROLLERS)[number]): HelmSource => ({
    releaseName: `ack-${service}-controller`,
    chart: chartOf(`ack-${service}-controller`),
    values: {
      aws: { region: env.region },
      // Watch only the system namespace: the controllers never touch other teams' resources.
      watchNamespace: env.namespace,
      // Deleting a Kubernetes object (a rename, an Application deleted) never deletes the AWS resource.
      deletionPolicy: 'retain',
    },
  });
  return [
    single('aws-load-balancer-controller', {
      clusterName: env.clusterName,
      // Region and VPC given, so the controller never needs the instance metadata service.
      region: env.region,
      vpcId: env.vpcId,
      serviceAccount: { name: 'aws-load-balancer-controller' },
      // IngressClass `alb` is the ingress app's (40-ingress), with its IngressClassParams: one owner.
      createIngressClassResource: false,
    }),
    single('keda', { podIdentity: { aws: { irsa: { enabled: env.identity === 'irsa', ...kedaRoleArn } } } }),
    single('metrics-server', {}),
    single('external-secrets', {
      serviceAccount: { name: EXTERNAL_SECRETS.serviceAccount, ...externalSecretsAnnotations },
    }),
    single(
      'aws-for-fluent-bit',
      logShipperValues(system, env, roleArnAnnotations(system, env, PLATFORM_IDENTITY.logShipper)),
    ),
    ...(cloudMapNamespace(env)
      ? [
          single(
            'external-dns',
            externalDnsValues(system, env, roleArnAnnotations(system, env, PLATFORM_IDENTITY.externalDns)),
            // Its DNSEndpoint/DNSRecord CRDs serve sources and registries Flotilla does not use.
            { skipCrds: true },
          ),
        ]
      : []),
    {
      name: 'ack-controllers',
      namespace: addon('ack-sqs-controller').namespace,
      sources: ACK_CONTROLLERS.map(ackController),
    },
  ];
}

/** Group and kind of every ACK resource the charts render: each gets an Argo CD health check. */
const ACK_KINDS: readonly GroupVersionKind[] = [
  Queue.GVK,
  Topic.GVK,
  Subscription.GVK,
  Policy.GVK,
  Role.GVK,
  PodIdentityAssociation.GVK,
];

/**
 * Argo CD health check of an ACK resource: Healthy once the controller reports `ACK.ResourceSynced`
 * True (the AWS resource exists and matches the spec), Degraded on `ACK.Terminal` (it will not recover
 * without a change), Progressing otherwise, with the controller's message. A wave then waits for the AWS
 * resource, not merely for the object to be accepted.
 * @see https://aws-controllers-k8s.github.io/community/docs/user-docs/resource-crud/
 */
export const ACK_HEALTH_LUA = `local hs = { status = "Progressing", message = "Waiting for the ACK controller to sync the resource" }
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "ACK.Terminal" and c.status == "True" then
      return { status = "Degraded", message = c.message or "ACK.Terminal" }
    end
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "ACK.ResourceSynced" then
      if c.status == "True" then
        return { status = "Healthy", message = c.message or "Resource synced" }
      end
      if c.message ~= nil then hs.message = c.message end
    end
  end
end
return hs
`;

/**
 * Argo CD health of a child Application (app of apps): its own health, so the root app's waves wait for
 * each child to be healthy. Argo CD stopped assessing it by default in 1.8.
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/health/#argocd-app
 */
export const APPLICATION_HEALTH_LUA = `local hs = { status = "Progressing", message = "" }
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then hs.message = obj.status.health.message end
end
return hs
`;

/**
 * Keys and values Flotilla adds to Argo CD's `argocd-cm`: a health check per ACK kind and one for
 * Applications, in the `resource.customizations.health.<group>_<kind>` form of Argo CD 3.x.
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/resource_actions/
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/health/#custom-health-checks
 */
export function argoCdSettings(): Record<string, string> {
  const key = (apiVersion: string, kind: string) =>
    `resource.customizations.health.${apiVersion.split('/')[0]}_${kind}`;
  const out: Record<string, string> = {
    [key('argoproj.io/v1alpha1', 'Application')]: APPLICATION_HEALTH_LUA,
  };
  for (const gvk of ACK_KINDS) out[key(gvk.apiVersion, gvk.kind)] = ACK_HEALTH_LUA;
  return out;
}

/** A platform chart or service file of `dist/<env>/` and how Argo CD syncs it. */
export interface ManifestApp {
  /** Application name suffix (after `<system>-<env>-`). */
  readonly name: string;
  /** File in `dist/<env>/`. */
  readonly file: string;
  readonly wave: number;
  /** Fields owned by a controller (autoscaled replicas) that Argo CD must not revert. @default - none */
  readonly ignoreDifferences?: ApplicationSpecIgnoreDifferences[];
}

/**
 * The Applications of an environment's files, matching `system-chart.ts`' layout. Every service is
 * autoscaled (HPA or KEDA), so its Deployment's `/spec/replicas` belongs to the autoscaler.
 */
export function manifestApps(system: System, env: FlotillaEnvironment): ManifestApp[] {
  return [
    { name: 'namespace', file: '00-namespace.k8s.yaml', wave: SYNC_WAVE.namespace },
    { name: 'platform', file: '10-platform.k8s.yaml', wave: SYNC_WAVE.platform },
    { name: 'network-policies', file: '20-network-policies.k8s.yaml', wave: SYNC_WAVE.platform },
    ...system.services.map((s): ManifestApp => ({
      name: s.name,
      file: `30-service-${s.name}.k8s.yaml`,
      wave: SYNC_WAVE.services,
      ignoreDifferences: [
        {
          group: 'apps',
          kind: 'Deployment',
          name: s.name,
          namespace: env.namespace,
          jsonPointers: ['/spec/replicas'],
        },
      ],
    })),
    { name: 'ingress', file: '40-ingress.k8s.yaml', wave: SYNC_WAVE.ingress },
  ];
}

const IN_CLUSTER = 'https://kubernetes.default.svc';

/** Props' GitOps settings with every default applied (shared by the root and the child Applications). */
function gitOpsOf(props: ArgoCdAppsProps): Required<GitOpsSettings> {
  const git = { ...DEFAULT_GITOPS, ...props.gitops };
  return {
    repoUrl: git.repoUrl,
    targetRevision: git.targetRevision ?? 'main',
    manifestsRoot: git.manifestsRoot ?? 'dist',
    argoNamespace: git.argoNamespace ?? 'argocd',
  };
}

/** Labels of every Argo CD object of a system. */
function argoLabels(system: System): Record<string, string> {
  return { [LABEL.partOf]: system.name, [LABEL.managedBy]: MANAGED_BY };
}

/** Automated sync with pruning and self-heal, server-side apply, and retries while dependencies start. */
function syncPolicy(createNamespace: boolean, respectIgnore: boolean) {
  return {
    automated: { prune: true, selfHeal: true },
    syncOptions: [
      'ServerSideApply=true',
      ...(createNamespace ? ['CreateNamespace=true'] : []),
      ...(respectIgnore ? ['RespectIgnoreDifferences=true'] : []),
    ],
    retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
  };
}

/** The API group and kind of a rendered object, as an AppProject whitelist names it. */
export interface ResourceKind {
  readonly group: string;
  readonly kind: string;
}

/** Props of {@link ArgoCdApps}. */
export interface ArgoCdAppsProps {
  readonly system: System;
  readonly environment: FlotillaEnvironment;
  /** @default DEFAULT_GITOPS */
  readonly gitops?: GitOpsSettings;
  /**
   * The kinds the environment's files render, namespaced and cluster-scoped: the system's AppProject
   * allows exactly these, so nothing else (an extra IAM Role kind, a webhook) can be synced through it.
   * @default - computed by `renderDocuments`; without it the project allows no kind
   */
  readonly renderedKinds?: {
    readonly namespaced: readonly ResourceKind[];
    readonly cluster: readonly ResourceKind[];
  };
}

/** The kinds of a list of rendered objects, split by scope (an object without a namespace is cluster-scoped). */
export function kindsOf(
  objects: readonly { apiVersion: string; kind: string; metadata?: { namespace?: string } }[],
): {
  namespaced: ResourceKind[];
  cluster: ResourceKind[];
} {
  const namespaced = new Map<string, ResourceKind>();
  const cluster = new Map<string, ResourceKind>();
  for (const o of objects) {
    const slash = o.apiVersion.lastIndexOf('/');
    const kind = { group: slash < 0 ? '' : o.apiVersion.slice(0, slash), kind: o.kind };
    (o.metadata?.namespace ? namespaced : cluster).set(`${kind.group}/${kind.kind}`, kind);
  }
  const sorted = (m: Map<string, ResourceKind>) => [...m.keys()].sort().map((k) => m.get(k)!);
  return { namespaced: sorted(namespaced), cluster: sorted(cluster) };
}

/** The AppProjects, Argo CD settings and child Applications of one environment (what the root app syncs). */
export class ArgoCdApps extends Construct {
  constructor(scope: Construct, id: string, props: ArgoCdAppsProps) {
    super(scope, id);
    const { system, environment: env } = props;
    const git = gitOpsOf(props);
    const argoNs = git.argoNamespace;
    const prefix = `${system.name}-${env.name}`;
    const labels = argoLabels(system);
    const addons = env.platform === 'eks' ? helmAddons(system, env) : [];
    const waveAnnotation = (wave: number) => ({ 'argocd.argoproj.io/sync-wave': String(wave) });
    const meta = (name: string, wave: number) => ({
      name,
      namespace: argoNs,
      labels,
      annotations: waveAnnotation(wave),
      // Deleting an Application deletes what it deployed (otherwise removed services would linger).
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    });
    const projectMeta = (name: string) => ({
      name,
      namespace: argoNs,
      labels,
      annotations: waveAnnotation(SYNC_WAVE.projects),
    });

    // Argo CD's own settings, merged into its argocd-cm by server-side apply (only these keys are ours).
    // The label is how Argo CD finds its settings.
    new ApiObject(this, 'Settings', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'argocd-cm',
        namespace: argoNs,
        labels: { 'app.kubernetes.io/name': 'argocd-cm', 'app.kubernetes.io/part-of': 'argocd' },
        annotations: waveAnnotation(SYNC_WAVE.projects),
      },
      data: argoCdSettings(),
    });

    // The system's own manifests may touch only its namespace, and only the kinds it renders.
    const kinds = props.renderedKinds ?? { namespaced: [], cluster: [] };
    new AppProject(this, 'Project', {
      metadata: projectMeta(prefix),
      spec: {
        description: `${system.name} in ${env.name}: services and platform resources rendered by Flotilla`,
        sourceRepos: [git.repoUrl],
        destinations: [{ server: IN_CLUSTER, namespace: env.namespace }],
        clusterResourceWhitelist: kinds.cluster.map((k): AppProjectSpecClusterResourceWhitelist => ({
          ...k,
        })),
        namespaceResourceWhitelist: kinds.namespaced.map((k) => ({ ...k })),
      },
    });
    if (addons.length > 0) {
      // Controllers install CRDs, webhooks and cluster RBAC: a separate project, limited to their charts.
      new AppProject(this, 'AddonsProject', {
        metadata: projectMeta(`${prefix}-addons`),
        spec: {
          description: `Platform add-ons of ${system.name} in ${env.name} (pinned Helm charts)`,
          sourceRepos: [...new Set(addons.flatMap((a) => a.sources.map((s) => s.chart.repoUrl)))].sort(),
          destinations: [...new Set(addons.map((a) => a.namespace))]
            .sort()
            .map((namespace) => ({ server: IN_CLUSTER, namespace })),
          clusterResourceWhitelist: [{ group: '*', kind: '*' }],
        },
      });
    }

    for (const a of addons) {
      const sources = a.sources.map((s) => ({
        repoUrl: s.chart.repoUrl,
        chart: s.chart.name,
        targetRevision: s.chart.version,
        helm: {
          releaseName: s.releaseName,
          valuesObject: s.values,
          ...(a.skipCrds ? { skipCrds: true } : {}),
        },
      }));
      new Application(this, `addon-${a.name}`, {
        metadata: meta(`${prefix}-${a.name}`, SYNC_WAVE.addons),
        spec: {
          project: `${prefix}-addons`,
          ...(sources.length === 1 ? { source: sources[0]! } : { sources }),
          destination: { server: IN_CLUSTER, namespace: a.namespace },
          syncPolicy: syncPolicy(true, false),
        },
      });
    }

    const path = `${git.manifestsRoot}/${env.name}`;
    for (const app of manifestApps(system, env)) {
      new Application(this, `app-${app.name}`, {
        metadata: meta(`${prefix}-${app.name}`, app.wave),
        spec: {
          project: prefix,
          source: {
            repoUrl: git.repoUrl,
            targetRevision: git.targetRevision,
            path,
            directory: { include: app.file },
          },
          destination: { server: IN_CLUSTER, namespace: env.namespace },
          ...(app.ignoreDifferences ? { ignoreDifferences: app.ignoreDifferences } : {}),
          syncPolicy: syncPolicy(false, Boolean(app.ignoreDifferences)),
        },
      });
    }
  }
}

/** The root Application: applied once (`kubectl apply -f dist/<env>/argocd/root.k8s.yaml`), it syncs the rest. */
export class ArgoCdRoot extends Construct {
  constructor(scope: Construct, id: string, props: ArgoCdAppsProps) {
    super(scope, id);
    const { system, environment: env } = props;
    const git = gitOpsOf(props);
    new Application(this, 'Root', {
      metadata: {
        name: `${system.name}-${env.name}`,
        namespace: git.argoNamespace,
        labels: argoLabels(system),
      },
      spec: {
        // The built-in project: the root app creates the projects themselves.
        project: 'default',
        source: {
          repoUrl: git.repoUrl,
          targetRevision: git.targetRevision,
          // The folder and file of the apps chart (ARGOCD_FILES.apps) inside the environment's folder.
          path: `${git.manifestsRoot}/${env.name}/${posix.dirname(ARGOCD_FILES.apps)}`,
          directory: { include: posix.basename(ARGOCD_FILES.apps) },
        },
        destination: { server: IN_CLUSTER, namespace: git.argoNamespace },
        syncPolicy: syncPolicy(false, false),
      },
    });
  }
}

/** Files of the Argo CD charts of an environment, relative to `dist/<env>/`. */
export const ARGOCD_FILES = { apps: 'argocd/apps.k8s.yaml', root: 'argocd/root.k8s.yaml' } as const;

/** The two Argo CD charts of an environment, in `app`, with the files they are written to. */
export function argoCdCharts(app: App, props: ArgoCdAppsProps): { file: string; chart: Chart }[] {
  const apps = new Chart(app, `argocd-apps-${props.environment.name}`, { disableResourceNameHashes: true });
  new ArgoCdApps(apps, 'Apps', props);
  const root = new Chart(app, `argocd-root-${props.environment.name}`, { disableResourceNameHashes: true });
  new ArgoCdRoot(root, 'Root', props);
  return [
    { file: ARGOCD_FILES.apps, chart: apps },
    { file: ARGOCD_FILES.root, chart: root },
  ];
}
