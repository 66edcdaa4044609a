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
import { Chart, type App } from 'cdk8s';
import { Construct } from 'constructs';
import { Application, AppProject, type ApplicationSpecIgnoreDifferences } from '../../imports/argoproj.io.js';
import { LABEL, MANAGED_BY } from '../environments/names.js';
import type { EksEnvironment, FlotillaEnvironment } from '../environments/types.js';
import { irsaRoleArn, KEDA, PLATFORM_IDENTITY, roleArnAnnotations } from '../iam-json.js';
import { EXTERNAL_SECRETS } from './database.js';
import { LOG_SHIPPER, logShipperValues } from './logging.js';

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
 * Sync waves: lower waves are synced and healthy before higher ones start. Add-ons (CRDs, controllers)
 * first, then the namespace, then queues, identities and the collector, then services, then the ALB.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
 */
export const SYNC_WAVE = { addons: -3, namespace: -2, platform: -1, services: 0, ingress: 1 } as const;

/** A platform add-on installed from a Helm chart. */
export interface HelmAddon {
  /** Application name (prefixed by system and environment). */
  readonly name: string;
  /** Helm repository URL (OCI registries without the `oci://` scheme, as Argo CD expects). */
  readonly repoUrl: string;
  readonly chart: string;
  /** Pinned chart version. */
  readonly version: string;
  /** Namespace the release is installed into. */
  readonly namespace: string;
  readonly values: Record<string, unknown>;
}

/**
 * The add-ons an EKS environment needs, each pinned. Versions were taken from the upstream charts'
 * release records; upgrade them deliberately (one commit per add-on) after reading the release notes.
 * Not here: the OTel collector (Flotilla renders its own, see OtelCollector); the IAM roles of the
 * ALB, ACK and EBS controllers, which need account-level policies (see charts-ts/README.md).
 *
 * Under IRSA, the add-ons with an identity of the plan (KEDA, external-secrets, aws-for-fluent-bit) get
 * their role ARN on their ServiceAccount the way each chart documents it: KEDA's
 * `podIdentity.aws.irsa.roleArn` (annotated on its operator's ServiceAccount), the others'
 * `serviceAccount.annotations`. Under Pod Identity the associations need nothing in the values.
 * @see https://github.com/kedacore/charts/tree/main/keda
 * @see https://github.com/external-secrets/external-secrets/tree/main/deploy/charts/external-secrets
 */
export function helmAddons(system: System, env: EksEnvironment): HelmAddon[] {
  const ack = (service: string, version: string): HelmAddon => ({
    name: `ack-${service}-controller`,
    repoUrl: 'public.ecr.aws/aws-controllers-k8s',
    chart: `${service}-chart`,
    version,
    namespace: 'ack-system',
    // Watch only the system namespace: the controllers never touch other teams' resources.
    values: { aws: { region: env.region }, watchNamespace: env.namespace },
  });
  const kedaArn = irsaRoleArn(system, env, PLATFORM_IDENTITY.keda);
  const kedaRoleArn = kedaArn ? { roleArn: kedaArn } : {};
  const secretsSa = roleArnAnnotations(system, env, PLATFORM_IDENTITY.externalSecrets);
  const externalSecretsAnnotations = Object.keys(secretsSa).length > 0 ? { annotations: secretsSa } : {};
  return [
    {
      name: 'aws-load-balancer-controller',
      repoUrl: 'https://aws.github.io/eks-charts',
      chart: 'aws-load-balancer-controller',
      version: '1.6.2',
      namespace: 'kube-system',
      values: {
        clusterName: env.clusterName,
        region: env.region,
        serviceAccount: { name: 'aws-load-balancer-controller' },
      },
    },
    {
      name: 'keda',
      repoUrl: 'https://kedacore.github.io/charts',
      chart: 'keda',
      version: '2.21.1',
      namespace: KEDA.namespace,
      values: { podIdentity: { aws: { irsa: { enabled: env.identity === 'irsa', ...kedaRoleArn } } } },
    },
    {
      name: 'metrics-server',
      repoUrl: 'https://kubernetes-sigs.github.io/metrics-server/',
      chart: 'metrics-server',
      version: '3.8.1',
      namespace: 'kube-system',
      values: {},
    },
    {
      name: 'external-secrets',
      repoUrl: 'https://charts.external-secrets.io',
      chart: 'external-secrets',
      version: '2.0.0',
      namespace: EXTERNAL_SECRETS.namespace,
      values: { serviceAccount: { name: EXTERNAL_SECRETS.serviceAccount, ...externalSecretsAnnotations } },
    },
    {
      name: 'aws-for-fluent-bit',
      repoUrl: 'https://aws.github.io/eks-charts',
      chart: 'aws-for-fluent-bit',
      version: '0.1.28',
      namespace: LOG_SHIPPER.namespace,
      values: logShipperValues(system, env, roleArnAnnotations(system, env, PLATFORM_IDENTITY.logShipper)),
    },
    ack('sqs', '1.2.2'),
    ack('sns', '1.0.7'),
    ack('iam', '1.4.3'),
    ack('eks', '1.22.0'),
  ];
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

/** Props of {@link ArgoCdApps}. */
export interface ArgoCdAppsProps {
  readonly system: System;
  readonly environment: FlotillaEnvironment;
  /** @default DEFAULT_GITOPS */
  readonly gitops?: GitOpsSettings;
}

/** The AppProjects and child Applications of one environment (the content the root app syncs). */
export class ArgoCdApps extends Construct {
  constructor(scope: Construct, id: string, props: ArgoCdAppsProps) {
    super(scope, id);
    const { system, environment: env } = props;
    const git = gitOpsOf(props);
    const argoNs = git.argoNamespace;
    const prefix = `${system.name}-${env.name}`;
    const labels = argoLabels(system);
    const addons = env.platform === 'eks' ? helmAddons(system, env) : [];
    const meta = (name: string, wave: number) => ({
      name,
      namespace: argoNs,
      labels,
      annotations: { 'argocd.argoproj.io/sync-wave': String(wave) },
      // Deleting an Application deletes what it deployed (otherwise removed services would linger).
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    });

    // The system's own manifests may touch only its namespace, and only the cluster-scoped kinds it renders.
    new AppProject(this, 'Project', {
      metadata: { name: prefix, namespace: argoNs, labels },
      spec: {
        description: `${system.name} in ${env.name}: services and platform resources rendered by Flotilla`,
        sourceRepos: [git.repoUrl],
        destinations: [{ server: IN_CLUSTER, namespace: env.namespace }],
        clusterResourceWhitelist: [
          { group: '', kind: 'Namespace' },
          { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
          { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
          { group: 'networking.k8s.io', kind: 'IngressClass' },
          { group: 'elbv2.k8s.aws', kind: 'IngressClassParams' },
          { group: 'external-secrets.io', kind: 'ClusterSecretStore' },
        ],
      },
    });
    if (addons.length > 0) {
      // Controllers install CRDs, webhooks and cluster RBAC: a separate project, limited to their charts.
      new AppProject(this, 'AddonsProject', {
        metadata: { name: `${prefix}-addons`, namespace: argoNs, labels },
        spec: {
          description: `Platform add-ons of ${system.name} in ${env.name} (pinned Helm charts)`,
          sourceRepos: [...new Set(addons.map((a) => a.repoUrl))].sort(),
          destinations: [...new Set(addons.map((a) => a.namespace))]
            .sort()
            .map((namespace) => ({ server: IN_CLUSTER, namespace })),
          clusterResourceWhitelist: [{ group: '*', kind: '*' }],
        },
      });
    }

    for (const addon of addons) {
      new Application(this, `addon-${addon.name}`, {
        metadata: meta(`${prefix}-${addon.name}`, SYNC_WAVE.addons),
        spec: {
          project: `${prefix}-addons`,
          source: {
            repoUrl: addon.repoUrl,
            chart: addon.chart,
            targetRevision: addon.version,
            helm: { releaseName: addon.name, valuesObject: addon.values },
          },
          destination: { server: IN_CLUSTER, namespace: addon.namespace },
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
