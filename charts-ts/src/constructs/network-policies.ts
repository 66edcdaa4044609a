/**
 * NetworkPolicies derived from the system graph: nothing talks unless the model says so.
 *
 * - `default-deny`: every pod of the namespace, ingress and egress.
 * - `allow-dns`: every pod may resolve names with CoreDNS (`k8s-app: kube-dns` in kube-system), UDP+TCP 53.
 * - one policy per service: ingress from exactly the services that declare a call to it, and from the
 *   front door for public services (ingress-nginx's namespace in kind; on EKS the CIDRs of the ALB's own
 *   subnets, `alb.subnets`, where the ALB with target-type `ip` connects from: not the VPC CIDR, since
 *   with the VPC CNI every pod has a VPC address and would be let in); egress to exactly its declared peers, the
 *   OTel collector, the messaging emulator and Postgres in kind where it uses them, the EKS Pod Identity
 *   agent, RDS inside the VPC for services with a database, and 0.0.0.0/0 on 443 for AWS APIs on EKS.
 * - one policy per platform component in the namespace (collector, emulator, Postgres).
 *
 * Kubelet health checks: the kubelet probes from the node itself, which Calico, Cilium and the VPC CNI
 * network policy agent allow regardless of policy, so no rule is added for them. A CNI that does not
 * would need an `ipBlock` of the node CIDR on the service port.
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
import { usesMessaging, type Service, type System } from '@flotilla/model';
import {
  KubeNetworkPolicy,
  IntOrString,
  type NetworkPolicyEgressRule,
  type NetworkPolicyIngressRule,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
} from 'cdk8s-plus-34/lib/imports/k8s.js';
import { Construct } from 'constructs';
import { MESSAGING_EMULATOR, OTEL_COLLECTOR, POSTGRES } from '../environments/names.js';
import type { FlotillaEnvironment } from '../environments/types.js';
import { KEDA } from '../iam-json.js';
import { componentSelector, selectorLabels } from '../labels.js';

/** EKS Pod Identity agent address (link-local, on every node). @see https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html */
export const POD_IDENTITY_AGENT_CIDR = '169.254.170.23/32';

/**
 * The EC2 instance metadata service: the collector's `ec2` and `eks` resource detectors read the instance
 * id, zone and cluster from it.
 * @see https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
 */
export const INSTANCE_METADATA_CIDR = '169.254.169.254/32';

export interface SystemNetworkPoliciesProps {
  readonly system: System;
  readonly environment: FlotillaEnvironment;
}

const tcp = (port: number): NetworkPolicyPort => ({ protocol: 'TCP', port: IntOrString.fromNumber(port) });

/** Every NetworkPolicy of a system's namespace. */
export class SystemNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: SystemNetworkPoliciesProps) {
    super(scope, id);
    const { system, environment: env } = props;
    const ns = env.namespace;
    const policy = (
      name: string,
      podSelector: Record<string, string>,
      ingress?: NetworkPolicyIngressRule[],
      egress?: NetworkPolicyEgressRule[],
    ) => {
      const policyTypes = [...(ingress ? ['Ingress'] : []), ...(egress ? ['Egress'] : [])];
      new KubeNetworkPolicy(this, name, {
        metadata: { name, namespace: ns },
        spec: {
          podSelector: Object.keys(podSelector).length ? { matchLabels: podSelector } : {},
          policyTypes,
          ...(ingress ? { ingress } : {}),
          ...(egress ? { egress } : {}),
        },
      });
    };

    policy('default-deny', {}, [], []);
    policy('allow-dns', {}, undefined, [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: IntOrString.fromNumber(53) },
          { protocol: 'TCP', port: IntOrString.fromNumber(53) },
        ],
      },
    ]);

    const callers = new Map<string, Service[]>();
    for (const s of system.services)
      for (const peer of s.calls) {
        const list = callers.get(peer);
        if (list) list.push(s);
        else callers.set(peer, [s]);
      }

    for (const service of system.services) {
      const ingress: NetworkPolicyIngressRule[] = [];
      const from = (callers.get(service.name) ?? []).map((c): NetworkPolicyPeer => ({
        podSelector: { matchLabels: selectorLabels(system.name, c.name) },
      }));
      if (from.length) ingress.push({ from, ports: [tcp(service.port)] });
      if (service.routes.length) ingress.push({ from: frontDoor(env), ports: [tcp(service.port)] });

      const egress: NetworkPolicyEgressRule[] = service.calls.map((peer) => ({
        to: [{ podSelector: { matchLabels: selectorLabels(system.name, peer) } }],
        ports: [tcp(system.service(peer).port)],
      }));
      egress.push({
        to: [{ podSelector: { matchLabels: componentSelector(OTEL_COLLECTOR.name) } }],
        ports: [tcp(OTEL_COLLECTOR.grpcPort), tcp(OTEL_COLLECTOR.httpPort)],
      });
      if (env.platform === 'kind') {
        if (usesMessaging(service))
          egress.push({
            to: [{ podSelector: { matchLabels: componentSelector(MESSAGING_EMULATOR.name) } }],
            ports: [tcp(MESSAGING_EMULATOR.port)],
          });
        if (service.database)
          egress.push({
            to: [{ podSelector: { matchLabels: componentSelector(POSTGRES.name) } }],
            ports: [tcp(POSTGRES.port)],
          });
      } else {
        egress.push(...awsEgress(env));
        if (service.database)
          egress.push({ to: [{ ipBlock: { cidr: env.vpcCidr } }], ports: [tcp(POSTGRES.port)] });
      }
      policy(service.name, selectorLabels(system.name, service.name), ingress, egress);
    }

    // Platform components living in the namespace (created by platform-resources): let the services in.
    const servicePods = servicePodsWhere(system, () => true);
    if (servicePods.length) {
      policy(
        OTEL_COLLECTOR.name,
        componentSelector(OTEL_COLLECTOR.name),
        [{ from: servicePods, ports: [tcp(OTEL_COLLECTOR.grpcPort), tcp(OTEL_COLLECTOR.httpPort)] }],
        [
          // The Kubernetes API (k8sattributes; 443 on EKS, 6443 on kind's node) and, on EKS, X-Ray/CloudWatch.
          { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(443), tcp(6443)] },
          ...(env.platform === 'eks'
            ? [
                { to: [{ ipBlock: { cidr: INSTANCE_METADATA_CIDR } }], ports: [tcp(80)] },
                ...(env.identity === 'pod-identity' ? [podIdentityAgent()] : []),
              ]
            : []),
        ],
      );
    }
    if (env.platform === 'kind') {
      const messagingPods = servicePodsWhere(system, usesMessaging);
      if (messagingPods.length) {
        // KEDA's operator polls the emulator's queue depth from its own namespace.
        const keda: NetworkPolicyPeer = {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': KEDA.namespace } },
        };
        policy(
          MESSAGING_EMULATOR.name,
          componentSelector(MESSAGING_EMULATOR.name),
          [{ from: [...messagingPods, keda], ports: [tcp(MESSAGING_EMULATOR.port)] }],
          [],
        );
      }
      const databasePods = servicePodsWhere(system, (s) => s.database);
      if (databasePods.length)
        policy(
          POSTGRES.name,
          componentSelector(POSTGRES.name),
          [{ from: databasePods, ports: [tcp(POSTGRES.port)] }],
          [],
        );
    }
  }
}

function servicePodsWhere(system: System, test: (s: Service) => boolean): NetworkPolicyPeer[] {
  return system.services
    .filter(test)
    .map((s) => ({ podSelector: { matchLabels: selectorLabels(system.name, s.name) } }));
}

/** Where public traffic comes from: the ingress controller's namespace in kind, the ALB's subnets on EKS. */
function frontDoor(env: FlotillaEnvironment): NetworkPolicyPeer[] {
  if (env.platform === 'eks') return env.alb.subnets.map((subnet) => ({ ipBlock: { cidr: subnet.cidr } }));
  return [
    {
      namespaceSelector: {
        matchLabels: { 'kubernetes.io/metadata.name': env.ingressNamespace ?? 'ingress-nginx' },
      },
    },
  ];
}

function podIdentityAgent(): NetworkPolicyEgressRule {
  return { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT_CIDR } }], ports: [tcp(80)] };
}

/** AWS APIs (SQS, SNS, STS, Cloud Map, X-Ray) over HTTPS, and the Pod Identity agent. */
function awsEgress(env: FlotillaEnvironment & { platform: 'eks' }): NetworkPolicyEgressRule[] {
  return [
    { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(443)] },
    ...(env.identity === 'pod-identity' ? [podIdentityAgent()] : []),
  ];
}
