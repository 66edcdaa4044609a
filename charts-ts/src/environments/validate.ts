/** Checks an environment file before anything is synthesized, naming the environment, field and fix. */
import { SUPPORTED_KUBERNETES_VERSIONS } from './kubernetes.js';
import type { FlotillaEnvironment } from './types.js';

/** Thrown with every problem of an environment at once. */
export class EnvironmentError extends Error {
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
  ) {
    super(
      `environment "${environment}" has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'EnvironmentError';
  }
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Every problem of an environment; empty when it is usable. */
export function environmentProblems(env: FlotillaEnvironment): string[] {
  const problems: string[] = [];
  const add = (field: string, message: string, fix: string) =>
    problems.push(`${field}: ${message}. Fix: ${fix}`);
  const rt = env.runtime;
  if (rt.name !== env.name)
    add('runtime.name', `"${rt.name}" differs from name "${env.name}"`, 'use the same name in both');
  if (rt.namespace !== env.namespace)
    add(
      'runtime.namespace',
      `"${rt.namespace}" differs from namespace "${env.namespace}"`,
      'use the same namespace in both',
    );
  if (rt.platform !== env.platform)
    add(
      'runtime.platform',
      `"${rt.platform}" differs from platform "${env.platform}"`,
      'use the same platform in both',
    );
  if (!DNS_1123_LABEL.test(env.namespace) || env.namespace.length > 63)
    add('namespace', `"${env.namespace}" is not a DNS-1123 label`, 'use lower-case letters, digits and "-"');
  if (!env.image.tag || !LABEL_VALUE.test(env.image.tag) || env.image.tag.length > 63) {
    add(
      'image.tag',
      `"${env.image.tag}" is not usable as a tag and label value`,
      'use at most 63 letters, digits, "-", "_" and ".", e.g. a version or git SHA',
    );
  }
  const k8s = env.kubernetesVersion;
  if (k8s !== undefined && !(SUPPORTED_KUBERNETES_VERSIONS as readonly string[]).includes(k8s))
    add(
      'kubernetesVersion',
      `"${k8s}" is not a supported Kubernetes version`,
      `use one of ${SUPPORTED_KUBERNETES_VERSIONS.join(', ')} (the charts are validated against those)`,
    );
  for (const [service, digest] of Object.entries(env.image.digests ?? {}))
    if (!/^sha256:[0-9a-f]{64}$/.test(digest))
      add(
        `image.digests.${service}`,
        `"${digest}" is not an image digest`,
        'use the digest the registry reports for the pushed image, "sha256:" and 64 hex digits',
      );
  if (env.replicas && env.replicas.min > env.replicas.max)
    add('replicas', `min ${env.replicas.min} is greater than max ${env.replicas.max}`, 'make min <= max');
  if (env.platform === 'eks') {
    // Pods pull with IfNotPresent, which is only correct when a tag always names the same image.
    if (env.image.tag === 'latest')
      add(
        'image.tag',
        '"latest" is mutable',
        'deploy an immutable tag (a version or git SHA) and enable ECR tag immutability',
      );
    if (env.alb.certificateArns.length === 0)
      add(
        'alb.certificateArns',
        'is empty, so the HTTPS listener has no certificate',
        'add the ACM certificate ARN of the domain',
      );
    if (rt.aws.accountId !== env.accountId)
      add(
        'runtime.aws.accountId',
        `"${rt.aws.accountId}" differs from accountId "${env.accountId}"`,
        'use the same account in both',
      );
    if (rt.aws.region !== env.region)
      add(
        'runtime.aws.region',
        `"${rt.aws.region}" differs from region "${env.region}"`,
        'use the same region in both',
      );
    if (env.identity === 'irsa') {
      const describe = `\`aws eks describe-cluster --name ${env.clusterName} --query cluster.identity.oidc.issuer --output text\``;
      if (!env.oidcIssuer)
        add(
          'oidcIssuer',
          'is missing, and identity "irsa" needs it for the trust policy of every IAM role',
          `set it to the cluster's issuer URL, printed by ${describe}`,
        );
      else if (!isHttpsUrl(env.oidcIssuer))
        add(
          'oidcIssuer',
          `"${env.oidcIssuer}" is not an https:// URL`,
          `use the issuer URL exactly as ${describe} prints it, e.g. "https://oidc.eks.${env.region}.amazonaws.com/id/<id>"`,
        );
    }
    if (!isCidr(env.vpcCidr))
      add('vpcCidr', `"${env.vpcCidr}" is not an IPv4 CIDR`, 'use the VPC CIDR, e.g. "10.0.0.0/16"');
    if (!/^vpc-[0-9a-f]{8,17}$/.test(env.vpcId))
      add(
        'vpcId',
        `"${env.vpcId}" is not a VPC id`,
        'use the id of the cluster VPC, e.g. "vpc-0123456789abcdef0"',
      );
    if (env.alb.subnets.length < 2)
      add(
        'alb.subnets',
        `lists ${env.alb.subnets.length} subnet(s); an ALB needs subnets in at least two availability zones`,
        'list the public (or, for an internal ALB, private) subnets the ALB lives in, with id and CIDR',
      );
    env.alb.subnets.forEach((subnet, i) => {
      if (!/^subnet-[0-9a-f]{8,17}$/.test(subnet.id))
        add(
          `alb.subnets[${i}].id`,
          `"${subnet.id}" is not a subnet id`,
          'use e.g. "subnet-0123456789abcdef0"',
        );
      if (!isCidr(subnet.cidr))
        add(
          `alb.subnets[${i}].cidr`,
          `"${subnet.cidr}" is not an IPv4 CIDR`,
          'use the subnet\'s CIDR, e.g. "10.0.0.0/24"',
        );
    });
  }
  return problems;
}

/** Whether a value is an IPv4 CIDR (four octets up to 255, a prefix length up to 32). */
function isCidr(value: string): boolean {
  const m = CIDR.exec(value);
  return Boolean(m) && !m!.slice(1, 5).some((o) => Number(o) > 255) && Number(m![5]) <= 32;
}

/** Whether a value is an absolute `https://` URL with a host and no credentials, query or fragment. */
function isHttpsUrl(value: string): boolean {
  if (!value.startsWith('https://')) return false;
  try {
    const url = new URL(value);
    return url.hostname !== '' && !url.username && !url.password && !url.search && !url.hash;
  } catch {
    return false;
  }
}

/** Throws an {@link EnvironmentError} listing every problem of the environment. */
export function validateEnvironment(env: FlotillaEnvironment): void {
  const problems = environmentProblems(env);
  if (problems.length > 0) throw new EnvironmentError(env.name, problems);
}
