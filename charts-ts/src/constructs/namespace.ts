/**
 * The system's namespace, with Pod Security Admission `restricted` enforced (and audited and warned, so
 * a violation shows in `kubectl` output and the audit log, not only as a rejected pod).
 */
import { KubeNamespace } from 'cdk8s-plus-34/lib/imports/k8s.js';
import { Construct } from 'constructs';
import { DEFAULT_KUBERNETES_VERSION, type KubernetesVersion } from '../environments/kubernetes.js';

export interface SystemNamespaceProps {
  /**
   * Namespace name.
   * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
   */
  readonly name: string;
  /** Labels of the namespace, besides the Pod Security and ALB labels. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Whether the AWS Load Balancer Controller injects pod readiness gates in this namespace, so a rollout
   * waits until new pods are healthy in the ALB target group before old ones go.
   * @default false
   * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/
   */
  readonly albReadinessGates?: boolean;
  /**
   * The cluster's Kubernetes minor version: the Pod Security Standards version the labels pin, so a
   * later cluster upgrade does not tighten the rules under running workloads.
   * @default DEFAULT_KUBERNETES_VERSION
   * @see https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
   */
  readonly kubernetesVersion?: KubernetesVersion;
}

/** A namespace enforcing the `restricted` Pod Security Standard. */
export class SystemNamespace extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: SystemNamespaceProps) {
    super(scope, id);
    this.name = props.name;
    // @see https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
    const pss: Record<string, string> = {};
    for (const mode of ['enforce', 'audit', 'warn']) {
      pss[`pod-security.kubernetes.io/${mode}`] = 'restricted';
      pss[`pod-security.kubernetes.io/${mode}-version`] =
        `v${props.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION}`;
    }
    new KubeNamespace(this, 'Resource', {
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          ...pss,
          ...(props.albReadinessGates ? { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' } : {}),
        },
      },
    });
  }
}
