/**
 * THE add-on table: every controller Flotilla's environments install, with its chart, chart version,
 * app version and the CRDs of exactly that version. Nothing else in the repository writes one of these
 * versions: Argo CD's Applications (`constructs/argocd.ts`), the kind scripts (`platform/kind/`, through
 * `kind-env.ts`) and the READMEs (a test compares them) all read them from here. Upgrading an add-on is
 * one commit that changes its row and its vendored CRDs together; `test/addons.test.ts` fails when the
 * two disagree. How each version was looked up is in `versionSource`; how to re-vendor CRDs is in
 * `charts-ts/crds/README.md`.
 */
import type { Addon } from './types.js';

/**
 * sha256 of every vendored CRD file (below `charts-ts/crds/`), recorded when it was vendored. A test
 * recomputes each, so a file edited by hand (or replaced without updating its row) fails.
 */
const VENDORED_SHA256: Readonly<Record<string, string>> = {
  'ack/eks.services.k8s.aws_podidentityassociations.yaml':
    '2a5c1bb6e929a2f1c71c56729eaf90c94f237ef4d10a6a106a27517580edbdc6',
  'ack/iam.services.k8s.aws_policies.yaml':
    '4064ead3f3107a416bd9930ad11b53803728b1f36c75fe623756d14fae4464e6',
  'ack/iam.services.k8s.aws_roles.yaml': '97cf0706393a015cbdaf8475e0a8de4a4cbd201431cc1a9ba31abc5be547e7da',
  'ack/sns.services.k8s.aws_subscriptions.yaml':
    '583d6a36441cf295958d61360f149f38c0855534156983f9bee910aab0bf2e8c',
  'ack/sns.services.k8s.aws_topics.yaml': 'ca4eaf8e2531d5bc61e3faeb7ffe5c7f3e4e9e9b9393d66f9b2767b5dd474d5a',
  'ack/sqs.services.k8s.aws_queues.yaml': 'bf7bf11ecde93a65cdcbd73824f11c946685e99e8fd5b3c6b47a3313b3513abe',
  'argo-cd/application-crd.yaml': '9fd0da3e7097ad6d1af614fabd5c960bc7ddb00d768c3ef485a2fda6e9460df8',
  'argo-cd/appproject-crd.yaml': '084150a2feccd188a1dee09cd8a3a259dfacecdfb7e10037df78900f60816482',
  'aws-load-balancer-controller/elbv2.k8s.aws_ingressclassparams.yaml':
    '55dc565c054186600f896cda42ed0c7307c07bbcdb1d3b1f3e449a6f26040b3d',
  'external-secrets/external-secrets.io_clustersecretstores.yaml':
    '5f2b3425b831546b3d051ece29caf1eb1010d961d7a00640e0c0a6aceac5ffef',
  'external-secrets/external-secrets.io_externalsecrets.yaml':
    '690dbc0d51b5f9bc5266b450b533cfd22c5273268e8569102e528a39519cd4ba',
  'keda/keda.sh_clustertriggerauthentications.yaml':
    'c4db10d06b619cb5cde185c96cbb5d86b95702e86a0862a2d904f936a4191510',
  'keda/keda.sh_scaledobjects.yaml': 'af35555862a83933b074af14ad439c4b4ceabaf4daa3e9338e9b23e36d308d80',
  'keda/keda.sh_triggerauthentications.yaml':
    'ed59ab37b2fa9a18119484a3dbd849b0b18ed25e1aea91d9f1305d4da2215bd8',
};

/**
 * The ACK controllers. Where the module proxy serves the release (sqs, sns, iam), its CRDs are copied byte
 * for byte from the Go module of that tag (chart version = module version = app version). The EKS
 * controller's module is refused by the proxy, so its one CRD stays a transcription read at a commit.
 */
const ACK_CONTROLLERS = [
  {
    service: 'sqs',
    version: '1.7.1',
    versionSource:
      'Go module github.com/aws-controllers-k8s/sqs-controller@v1.7.1 (newest the module proxy serves, 2026-09-18; helm/Chart.yaml 1.7.1)',
    plurals: ['queues'],
  },
  {
    service: 'sns',
    version: '1.12.0',
    versionSource:
      'Go module github.com/aws-controllers-k8s/sns-controller@v1.12.0 (newest the module proxy serves, 2026-10-23; helm/Chart.yaml 1.12.0)',
    plurals: ['topics', 'subscriptions'],
  },
  {
    service: 'iam',
    version: '1.9.1',
    versionSource:
      'Go module github.com/aws-controllers-k8s/iam-controller@v1.9.1 (newest the module proxy serves, 2026-09-18; helm/Chart.yaml 1.9.1)',
    plurals: ['roles', 'policies'],
  },
  {
    service: 'eks',
    version: '1.22.0',
    versionSource:
      'release record of eks-chart 1.22.0 (not re-checked here: the module proxy refuses every eks-controller version)',
    plurals: ['podidentityassociations'],
    transcribedAt: '8235fd2d3e56b351169bb92277c9f8dbcd370cef',
  },
] as const;

/** The recorded sha256 of a vendored file; a file missing from the record is a mistake in this table. */
function recorded(file: string): string {
  const sha = VENDORED_SHA256[file];
  if (!sha) throw new Error(`charts-ts/src/addons/table.ts: no sha256 recorded for crds/${file}`);
  return sha;
}

const ACK_REPO = 'public.ecr.aws/aws-controllers-k8s';
const EKS_CHARTS = 'https://aws.github.io/eks-charts';

/** Every add-on, in install order. */
export const ADDONS = [
  {
    name: 'argo-cd',
    manifestUrl: 'https://raw.githubusercontent.com/argoproj/argo-cd/v3.6.1/manifests/install.yaml',
    appVersion: '3.6.1',
    versionSource: 'Go module github.com/argoproj/argo-cd/v3@v3.6.1 (newest the module proxy serves)',
    namespace: 'argocd',
    platforms: ['bootstrap'],
    crds: [
      {
        file: 'argo-cd/application-crd.yaml',
        sha256: recorded('argo-cd/application-crd.yaml'),
        source: {
          kind: 'go-module',
          module: 'github.com/argoproj/argo-cd/v3',
          version: 'v3.6.1',
          path: 'manifests/crds/application-crd.yaml',
        },
      },
      {
        file: 'argo-cd/appproject-crd.yaml',
        sha256: recorded('argo-cd/appproject-crd.yaml'),
        source: {
          kind: 'go-module',
          module: 'github.com/argoproj/argo-cd/v3',
          version: 'v3.6.1',
          path: 'manifests/crds/appproject-crd.yaml',
        },
      },
    ],
  },
  {
    name: 'ingress-nginx',
    manifestUrl:
      'https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.12.1/deploy/static/provider/kind/deploy.yaml',
    appVersion: '1.12.1',
    versionSource: "kind's ingress guide; kept from the kind scripts, not re-checked (kind only)",
    namespace: 'ingress-nginx',
    platforms: ['kind'],
    crds: [],
  },
  {
    name: 'aws-load-balancer-controller',
    chart: { repoUrl: EKS_CHARTS, name: 'aws-load-balancer-controller', version: '3.4.2' },
    appVersion: '3.4.2',
    versionSource:
      'aws/eks-charts#1347 (chart sync of controller v3.4.2, 2026-07-13); chart 3.x versions equal the app version',
    namespace: 'kube-system',
    platforms: ['eks'],
    crds: [
      {
        file: 'aws-load-balancer-controller/elbv2.k8s.aws_ingressclassparams.yaml',
        sha256: recorded('aws-load-balancer-controller/elbv2.k8s.aws_ingressclassparams.yaml'),
        source: {
          kind: 'transcription',
          repository: 'kubernetes-sigs/aws-load-balancer-controller',
          commit: '1ffd80d69a665a89528318ff43f711f69e9e0c6c',
          path: 'config/crd/bases/elbv2.k8s.aws_ingressclassparams.yaml',
          tagVerified: false,
        },
      },
    ],
  },
  {
    name: 'metrics-server',
    chart: {
      repoUrl: 'https://kubernetes-sigs.github.io/metrics-server/',
      name: 'metrics-server',
      version: '3.13.1',
    },
    appVersion: '0.8.1',
    versionSource: 'charts/metrics-server/Chart.yaml in Go module sigs.k8s.io/metrics-server@v0.9.0',
    namespace: 'kube-system',
    platforms: ['eks', 'kind'],
    crds: [],
  },
  {
    name: 'keda',
    chart: { repoUrl: 'https://kedacore.github.io/charts', name: 'keda', version: '2.21.0' },
    appVersion: '2.21.0',
    versionSource:
      'Go module github.com/kedacore/keda/v2@v2.21.0 (newest the module proxy serves); KEDA charts carry the app version',
    namespace: 'keda',
    platforms: ['eks', 'kind'],
    crds: (['scaledobjects', 'triggerauthentications', 'clustertriggerauthentications'] as const).map(
      (plural) => ({
        file: `keda/keda.sh_${plural}.yaml`,
        sha256: recorded(`keda/keda.sh_${plural}.yaml`),
        source: {
          kind: 'go-module',
          module: 'github.com/kedacore/keda/v2',
          version: 'v2.21.0',
          path: `config/crd/bases/keda.sh_${plural}.yaml`,
        },
      }),
    ),
  },
  {
    name: 'external-secrets',
    chart: { repoUrl: 'https://charts.external-secrets.io', name: 'external-secrets', version: '1.3.2' },
    appVersion: '1.3.2',
    versionSource:
      'Go module github.com/external-secrets/external-secrets@v1.3.2, the newest release the module proxy serves (2.x is not a module version); chart 1.3.2 per external-secrets#5923',
    namespace: 'external-secrets',
    platforms: ['eks'],
    crds: (['externalsecrets', 'clustersecretstores'] as const).map((plural) => ({
      file: `external-secrets/external-secrets.io_${plural}.yaml`,
      sha256: recorded(`external-secrets/external-secrets.io_${plural}.yaml`),
      source: {
        kind: 'go-module',
        module: 'github.com/external-secrets/external-secrets',
        version: 'v1.3.2',
        path: `config/crds/bases/external-secrets.io_${plural}.yaml`,
      },
    })),
  },
  {
    name: 'aws-for-fluent-bit',
    chart: { repoUrl: EKS_CHARTS, name: 'aws-for-fluent-bit', version: '0.2.0' },
    appVersion: '3.2.1',
    versionSource: 'aws/eks-charts#1294 (chart 0.2.0, AWS for Fluent Bit 3.2.1, 2026-01)',
    namespace: 'amazon-cloudwatch',
    platforms: ['eks'],
    crds: [],
  },
  {
    name: 'external-dns',
    chart: {
      repoUrl: 'https://kubernetes-sigs.github.io/external-dns/',
      name: 'external-dns',
      version: '1.22.0',
    },
    appVersion: '0.22.0',
    versionSource:
      'charts/external-dns/Chart.yaml and CHANGELOG.md (v1.22.0, 2026-09-11) in Go module sigs.k8s.io/external-dns@v0.23.0',
    namespace: 'external-dns',
    platforms: ['eks'],
    crds: [],
  },
  ...ACK_CONTROLLERS.map((ack): Addon => ({
    name: `ack-${ack.service}-controller`,
    chart: { repoUrl: ACK_REPO, name: `${ack.service}-chart`, version: ack.version },
    appVersion: ack.version,
    versionSource: ack.versionSource,
    namespace: 'ack-system',
    platforms: ['eks'],
    crds: ack.plurals.map((plural) => {
      const file = `ack/${ack.service}.services.k8s.aws_${plural}.yaml`;
      const path = `config/crd/bases/${ack.service}.services.k8s.aws_${plural}.yaml`;
      const repository = `aws-controllers-k8s/${ack.service}-controller`;
      return {
        file,
        sha256: recorded(file),
        source:
          'transcribedAt' in ack
            ? { kind: 'transcription', repository, commit: ack.transcribedAt, path, tagVerified: false }
            : { kind: 'go-module', module: `github.com/${repository}`, version: `v${ack.version}`, path },
      };
    }),
  })),
] as const satisfies readonly Addon[];
