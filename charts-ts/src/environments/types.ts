/**
 * The environments a system is synthesized for. Each environment is one typed file next to this one
 * (`local.ts` for kind, `dev.ts` and `prod.ts` for EKS); `main.ts` synthesizes every one of them.
 *
 * The model's {@link RuntimeEnvironment} lives inside: it decides each service's variables, while the
 * rest of an environment decides cluster details (images, ingress, identity, network ranges).
 */
import type { RuntimeEnvironment } from '@flotilla/model';
import type { KubernetesVersion } from './kubernetes.js';

/** Where an image comes from: `<registry>/<image>:<tag>`. */
export interface ImageSource {
  /**
   * Registry host and path prefix, without a trailing slash, e.g.
   * `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop`. Empty for images loaded with `kind load`.
   * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html
   */
  readonly registry: string;
  /**
   * Image tag. On EKS it must be immutable (a version or a git SHA, never `latest`) because pods pull
   * with `IfNotPresent`; see `imagePullPolicyFor`.
   * @see https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html
   */
  readonly tag: string;
  /**
   * Image digests by service name (`sha256:<64 hex>`): a service listed here is deployed as
   * `<registry>/<image>:<tag>@<digest>`, so the pulled bytes are exactly the ones built, whatever the
   * registry's tag points at later (the tag stays for people reading the manifest). Services not listed
   * are deployed by tag.
   * @default - every service by tag
   * @see https://kubernetes.io/docs/concepts/containers/images/#image-names
   */
  readonly digests?: Readonly<Record<string, string>>;
}

/**
 * Replica bounds that replace every service's own bounds in this environment (e.g. 1..2 in dev).
 * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
 */
export interface ReplicaBounds {
  readonly min: number;
  readonly max: number;
}

/** What every environment has, whatever the cluster. */
interface EnvironmentBase {
  /** Environment name, a DNS-1035 label; also `runtime.name` and the `dist/<name>/` directory. */
  readonly name: string;
  /**
   * Kubernetes namespace every service of the system runs in; also `runtime.namespace`.
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
   */
  readonly namespace: string;
  /**
   * Public host name of the front door (Ingress rule host), e.g. `shop.example.com`.
   * @see https://kubernetes.io/docs/concepts/services-networking/ingress/#name-based-virtual-hosting
   */
  readonly domain: string;
  /** Where service images are pulled from. */
  readonly image: ImageSource;
  /**
   * The cluster's Kubernetes minor version. It sets the Pod Security Standards version the namespace
   * enforces (`pod-security.kubernetes.io/enforce-version`).
   * @default DEFAULT_KUBERNETES_VERSION ('1.36')
   * @see https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
   */
  readonly kubernetesVersion?: KubernetesVersion;
  /**
   * Replica bounds replacing each service's own.
   * @default - each service's `replicas` from the model
   */
  readonly replicas?: ReplicaBounds;
  /**
   * The model's view of this environment: what decides every service's variables (`envFor`). Its
   * `name`, `namespace` and `platform` (and on EKS its account and region) must equal this environment's:
   * `eksEnvironment` / `kindEnvironment` (./define.ts) fill them in, so environment files say them once.
   */
  readonly runtime: RuntimeEnvironment;
}

/** A local kind cluster: images loaded with `kind load`, ingress-nginx, emulated SQS/SNS, Postgres in cluster. */
export interface KindEnvironment extends EnvironmentBase {
  readonly platform: 'kind';
  /**
   * IngressClass of the local ingress controller.
   * @default 'nginx'
   * @see https://kind.sigs.k8s.io/docs/user/ingress/
   */
  readonly ingressClassName?: string;
  /**
   * Namespace of the local ingress controller, allowed to reach public services by NetworkPolicy.
   * @default 'ingress-nginx'
   */
  readonly ingressNamespace?: string;
}

/**
 * How a pod gets its AWS identity.
 * - `pod-identity`: EKS Pod Identity associations (the EKS Pod Identity Agent add-on must be installed).
 *   @see https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
 * - `irsa`: IAM roles for service accounts, an `eks.amazonaws.com/role-arn` annotation on the ServiceAccount.
 *   @see https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
 */
export type IdentityMethod = 'pod-identity' | 'irsa';

/** The shared Application Load Balancer in front of an EKS environment. */
export interface AlbSettings {
  /**
   * `alb.ingress.kubernetes.io/group.name`: Ingresses with the same group share one ALB.
   * @default '<system>-<environment>'
   * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#group.name
   */
  readonly groupName?: string;
  /**
   * ACM certificate ARNs for the HTTPS listener; the first is the default certificate.
   * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#certificate-arn
   */
  readonly certificateArns: readonly string[];
  /**
   * Security policy of the HTTPS listener.
   * @default 'ELBSecurityPolicy-TLS13-1-2-2021-06'
   * @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
   */
  readonly sslPolicy?: string;
  /**
   * ARN of a WAFv2 web ACL attached to the ALB.
   * @default - no web ACL
   * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#wafv2-acl-arn
   */
  readonly wafv2AclArn?: string;
  /**
   * ALB scheme.
   * @default 'internet-facing'
   */
  readonly scheme?: 'internet-facing' | 'internal';
  /**
   * The subnets the ALB lives in (one per availability zone, at least two), by id and CIDR. The ids pin
   * the ALB to them (IngressClassParams `subnets`); the CIDRs are the only addresses NetworkPolicies
   * admit to public services (with target type `ip` the ALB connects from its nodes in these subnets,
   * and with the VPC CNI every pod has a VPC address, so a wider block would let any pod in).
   * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/ingress_class/#specsubnets
   */
  readonly subnets: readonly AlbSubnet[];
}

/** A subnet of the ALB. */
export interface AlbSubnet {
  /** Subnet id, e.g. `subnet-0123456789abcdef0`. */
  readonly id: string;
  /** The subnet's IPv4 CIDR, e.g. `10.20.0.0/24`. */
  readonly cidr: string;
}

/** An Amazon EKS cluster. */
export interface EksEnvironment extends EnvironmentBase {
  readonly platform: 'eks';
  /** 12-digit AWS account id; must equal `runtime.aws.accountId`. */
  readonly accountId: string;
  /** AWS region, e.g. `eu-west-1`; must equal `runtime.aws.region`. */
  readonly region: string;
  /** EKS cluster name (Pod Identity associations and the collector's `eks` resource detection use it). */
  readonly clusterName: string;
  /**
   * Id of the cluster's VPC, given to the AWS Load Balancer Controller so it does not read it from the
   * instance metadata service (which pods should not reach).
   * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/configurations/#controller-command-line-flags
   */
  readonly vpcId: string;
  /**
   * CIDR of the cluster VPC: where services with a database reach it (RDS in the VPC, port 5432).
   * Public traffic is admitted by `alb.subnets` only.
   */
  readonly vpcCidr: string;
  /** How pods get their AWS identity. */
  readonly identity: IdentityMethod;
  /**
   * Issuer URL of the cluster's OpenID Connect provider, exactly as
   * `aws eks describe-cluster --name <cluster> --query cluster.identity.oidc.issuer --output text` prints
   * it, e.g. `https://oidc.eks.eu-west-1.amazonaws.com/id/<id>`. With `identity: 'irsa'` it is required:
   * every IAM role trusts this provider (which must be registered as an IAM OIDC provider of the account)
   * for exactly its ServiceAccount. Pod Identity ignores it.
   * @default - none; an environment with `identity: 'irsa'` without it is rejected
   * @see https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html
   */
  readonly oidcIssuer?: string;
  /** The shared ALB. */
  readonly alb: AlbSettings;
}

/** One environment a system is synthesized for. */
export type FlotillaEnvironment = KindEnvironment | EksEnvironment;
