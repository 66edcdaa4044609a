/**
 * AWS Cloud Map registration, with `discovery.method: 'cloudmap'`: ExternalDNS (an add-on, with its AWS
 * Cloud Map provider `aws-sd`) registers the ready pods of every service as instances of the Cloud Map
 * service `<service>` in the environment's namespace (`discovery.namespace`, e.g. `shop.internal`), and
 * deregisters them when they stop being ready or go away. That is exactly what the runtime resolves:
 * `DiscoverInstances(NamespaceName, ServiceName = peer)`, reading `AWS_INSTANCE_IPV4` and the peer's
 * declared port.
 *
 * Why ExternalDNS and not the runtime registering itself: it is a maintained controller (kubernetes-sigs)
 * that follows the EndpointSlices, so registration tracks readiness and survives crashes (a process that
 * is killed cannot deregister itself; its stale instance would stay until a health check notices); it
 * needs no AWS rights in the services; and the charts alone decide it, so the runtime is unchanged. What
 * it needs: the namespace exists (a private DNS namespace in the cluster VPC: `aws servicediscovery
 * create-private-dns-namespace --name <namespace> --vpc <vpcId>`), and the IAM of `externalDnsPolicy`.
 * @see https://kubernetes-sigs.github.io/external-dns/latest/docs/tutorials/aws-sd/
 */
import type { System } from '@flotilla/model';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { addon } from '../addons/index.js';
import { LABEL, MANAGED_BY } from '../environments/names.js';
import type { EksEnvironment, FlotillaEnvironment } from '../environments/types.js';
import { selectorLabels } from '../labels.js';
import type { PolicyDocument } from './identity.js';

/** Where the ExternalDNS add-on runs, and its ServiceAccount. */
export const EXTERNAL_DNS = {
  namespace: addon('external-dns').namespace,
  serviceAccount: 'external-dns',
} as const;

/** Annotation ExternalDNS reads a Service's host name from. @see https://kubernetes-sigs.github.io/external-dns/latest/docs/annotations/annotations/ */
export const EXTERNAL_DNS_HOSTNAME = 'external-dns.kubernetes.io/hostname';

/** Tag ExternalDNS puts on the Cloud Map services it creates; its IAM writes only to services with it. */
export const CLOUD_MAP_OWNER_TAG = 'flotilla.dev/owner';

/** The Cloud Map namespace of an environment, or `undefined` when it does not discover through Cloud Map. */
export function cloudMapNamespace(env: FlotillaEnvironment): string | undefined {
  return env.runtime.discovery.method === 'cloudmap' ? env.runtime.discovery.namespace : undefined;
}

/** The owner id of an environment's registrations (ExternalDNS `txtOwnerId`, the owner tag's value). */
export function cloudMapOwner(system: string, env: Pick<FlotillaEnvironment, 'name'>): string {
  return `${system}-${env.name}`;
}

/** The host name a service is registered under: `<service>.<namespace>`, i.e. Cloud Map service `<service>`. */
export function cloudMapHostname(service: string, namespace: string): string {
  return `${service}.${namespace}`;
}

/** Name of the headless Service ExternalDNS registers a service's pods from. */
export function registrationServiceName(service: string): string {
  return `${service}-instances`;
}

/**
 * ExternalDNS's permissions, following its tutorial's tag-based (ABAC) policy: list and read anything,
 * create Cloud Map services only with the owner tag, and register, deregister, update and delete only in
 * services carrying it; discover only in the environment's namespace; change only the A records of that
 * namespace's hosted zone (Cloud Map writes them on its behalf).
 * @see https://kubernetes-sigs.github.io/external-dns/latest/docs/tutorials/aws-sd/#iam-permissions-with-abac
 */
export function externalDnsPolicy(system: System, env: EksEnvironment): PolicyDocument | undefined {
  const namespace = cloudMapNamespace(env);
  if (!namespace) return undefined;
  const owner = { [`aws:ResourceTag/${CLOUD_MAP_OWNER_TAG}`]: cloudMapOwner(system.name, env) };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'NamespaceRecords',
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: ['arn:aws:route53:::hostedzone/*'],
        Condition: {
          'ForAllValues:StringLike': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.${namespace}`],
            'route53:ChangeResourceRecordSetsActions': ['CREATE', 'UPSERT', 'DELETE'],
            'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
          },
        },
      },
      {
        Sid: 'ListCloudMap',
        Effect: 'Allow',
        Action: ['servicediscovery:ListNamespaces', 'servicediscovery:ListServices'],
        Resource: ['*'],
      },
      {
        Sid: 'CreateOwnedServices',
        Effect: 'Allow',
        Action: ['servicediscovery:CreateService', 'servicediscovery:TagResource'],
        Resource: ['*'],
        Condition: {
          StringEquals: { [`aws:RequestTag/${CLOUD_MAP_OWNER_TAG}`]: cloudMapOwner(system.name, env) },
        },
      },
      {
        Sid: 'DiscoverNamespace',
        Effect: 'Allow',
        Action: ['servicediscovery:DiscoverInstances'],
        Resource: ['*'],
        Condition: { StringEquals: { 'servicediscovery:NamespaceName': namespace } },
      },
      {
        Sid: 'WriteOwnedServices',
        Effect: 'Allow',
        Action: [
          'servicediscovery:RegisterInstance',
          'servicediscovery:DeregisterInstance',
          'servicediscovery:DeleteService',
          'servicediscovery:UpdateService',
        ],
        Resource: ['*'],
        Condition: { StringEquals: owner },
      },
    ],
  };
}

/**
 * Helm values of the external-dns chart: the `aws-sd` provider and registry (ownership in the Cloud Map
 * service's description), Services of the system namespace only, the environment's Cloud Map namespace
 * only (private DNS namespaces), `sync` so instances of removed pods are deregistered, and the owner tag
 * on every service it creates. `serviceAccountAnnotations`: under IRSA the role ARN.
 * @see https://github.com/kubernetes-sigs/external-dns/tree/master/charts/external-dns
 */
export function externalDnsValues(
  system: System,
  env: EksEnvironment,
  serviceAccountAnnotations: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  const namespace = cloudMapNamespace(env);
  const owner = cloudMapOwner(system.name, env);
  return {
    provider: { name: 'aws-sd' },
    registry: 'aws-sd',
    txtOwnerId: owner,
    policy: 'sync',
    sources: ['service'],
    sourceNamespace: env.namespace,
    domainFilters: namespace ? [namespace] : [],
    extraArgs: ['--aws-zone-type=private', `--aws-sd-create-tag=${CLOUD_MAP_OWNER_TAG}=${owner}`],
    env: [{ name: 'AWS_REGION', value: env.region }],
    serviceAccount: {
      name: EXTERNAL_DNS.serviceAccount,
      ...(Object.keys(serviceAccountAnnotations).length > 0
        ? { annotations: { ...serviceAccountAnnotations } }
        : {}),
    },
  };
}

/** Props of {@link CloudMapRegistration}. */
export interface CloudMapRegistrationProps {
  readonly system: System;
  readonly environment: FlotillaEnvironment;
}

/**
 * One headless Service per service, annotated with its Cloud Map host name: ExternalDNS registers the
 * ready addresses of its EndpointSlices (the pod IPs) as the Cloud Map service's instances. Headless, so
 * the instances are the pods themselves (a ClusterIP would be one virtual address, reachable only from
 * inside the cluster); not-ready pods are left out, so Cloud Map answers only with pods that serve.
 */
export class CloudMapRegistration extends Construct {
  constructor(scope: Construct, id: string, props: CloudMapRegistrationProps) {
    super(scope, id);
    const env = props.environment;
    const namespace = cloudMapNamespace(env);
    if (!namespace) return;
    for (const service of props.system.services) {
      new ApiObject(this, service.name, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: registrationServiceName(service.name),
          namespace: env.namespace,
          labels: {
            [LABEL.name]: service.name,
            [LABEL.partOf]: props.system.name,
            [LABEL.component]: 'discovery',
            [LABEL.managedBy]: MANAGED_BY,
          },
          annotations: { [EXTERNAL_DNS_HOSTNAME]: cloudMapHostname(service.name, namespace) },
        },
        spec: {
          clusterIP: 'None',
          selector: selectorLabels(props.system.name, service.name),
          ports: [{ name: 'http', port: service.port, targetPort: service.port, protocol: 'TCP' }],
        },
      });
    }
  }
}
