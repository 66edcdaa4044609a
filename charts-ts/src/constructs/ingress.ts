/**
 * The front door: each service's public routes as path rules (pathType Prefix).
 * - EKS: the AWS Load Balancer Controller. One IngressClass `alb` with IngressClassParams, which hold every
 *   setting of the shared ALB (group, scheme, subnets, target type, certificates, TLS policy, redirect,
 *   attributes), and one Ingress per public service carrying only what is per service or has no
 *   IngressClassParams field (listen ports, health check path, target group attributes, WAF). Each
 *   setting is written once: the controller lets IngressClassParams win over an annotation, so a setting
 *   in both places would make later edits of the annotation silently ignored. The group merges the
 *   Ingresses into one ALB, so each service still deploys (and is rolled back) on its own.
 * - kind: the same routes on the local ingress class (ingress-nginx).
 * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/
 */
import { HEALTH_PATHS, type System } from '@flotilla/model';
import { ApiObject } from 'cdk8s';
import { KubeIngress, KubeIngressClass, type HttpIngressPath } from 'cdk8s-plus-34/lib/imports/k8s.js';
import { Construct } from 'constructs';
import { addon, requireMinimumVersion } from '../addons/index.js';
import { albGroupName } from '../environments/names.js';
import type { EksEnvironment, FlotillaEnvironment } from '../environments/types.js';
import { serviceLabels } from '../labels.js';
import { podShutdownTiming } from '../shutdown.js';

/** IngressClass of the AWS Load Balancer Controller. */
export const ALB_INGRESS_CLASS = 'alb';
/** Controller name the AWS Load Balancer Controller claims IngressClasses by. */
export const ALB_CONTROLLER = 'ingress.k8s.aws/alb';
/** Default TLS policy of the HTTPS listener (TLS 1.3 and 1.2). */
export const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

export interface SystemIngressProps {
  readonly system: System;
  readonly environment: FlotillaEnvironment;
}

/** Ingress objects (and on EKS the ALB IngressClass) for every service with public routes. */
export class SystemIngress extends Construct {
  constructor(scope: Construct, id: string, props: SystemIngressProps) {
    super(scope, id);
    const { system, environment: env } = props;
    const publicServices = system.services.filter((s) => s.routes.length > 0);
    if (publicServices.length === 0) return;
    if (env.platform === 'eks') albIngressClass(this, system, env);

    for (const service of publicServices) {
      const paths: HttpIngressPath[] = service.routes.map((path) => ({
        path,
        pathType: 'Prefix',
        backend: { service: { name: service.name, port: { number: service.port } } },
      }));
      new KubeIngress(this, service.name, {
        metadata: {
          name: service.name,
          namespace: env.namespace,
          labels: serviceLabels({ system: system.name, service: service.name, version: env.image.tag }),
          ...(env.platform === 'eks' ? { annotations: albAnnotations(env) } : {}),
        },
        spec: {
          ingressClassName: env.platform === 'eks' ? ALB_INGRESS_CLASS : (env.ingressClassName ?? 'nginx'),
          // kind answers on any host name (http://localhost); EKS only on the environment's domain.
          rules: [env.platform === 'eks' ? { host: env.domain, http: { paths } } : { http: { paths } }],
        },
      });
    }
  }
}

/**
 * Per-Ingress ALB annotations: only settings IngressClassParams has no field for, or that are per
 * service. Everything else lives in IngressClassParams (`albIngressClass`), once.
 */
function albAnnotations(env: EksEnvironment): Record<string, string> {
  const timing = podShutdownTiming(env.runtime);
  const a = 'alb.ingress.kubernetes.io';
  return {
    [`${a}/listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]',
    [`${a}/healthcheck-path`]: HEALTH_PATHS.ready,
    // Shorter than the pod's preStop sleep: the ALB stops sending before the process hears SIGTERM.
    [`${a}/target-group-attributes`]: `deregistration_delay.timeout_seconds=${timing.deregistrationDelaySeconds}`,
    ...(env.alb.wafv2AclArn ? { [`${a}/wafv2-acl-arn`]: env.alb.wafv2AclArn } : {}),
  };
}

/**
 * IngressClass `alb` and its IngressClassParams (cluster-scoped). Shared settings of the ALB are set
 * here once, so no Ingress of the group can disagree on them. Fields used need controller >= 2.13
 * (`targetType`; `certificateArn` >= 2.8), which the add-on table's pin satisfies.
 * @see https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/ingress_class/
 */
function albIngressClass(scope: Construct, system: System, env: EksEnvironment): void {
  requireMinimumVersion(addon('aws-load-balancer-controller'), '2.13.0', 'IngressClassParams.targetType');
  const paramsName = `${albGroupName(system.name, env)}-alb`;
  new ApiObject(scope, 'IngressClassParams', {
    apiVersion: 'elbv2.k8s.aws/v1beta1',
    kind: 'IngressClassParams',
    metadata: { name: paramsName },
    spec: {
      scheme: env.alb.scheme ?? 'internet-facing',
      group: { name: albGroupName(system.name, env) },
      // The ALB lives in exactly these subnets; NetworkPolicies admit their CIDRs.
      subnets: { ids: env.alb.subnets.map((s) => s.id) },
      // Pods are targets directly (no NodePort hop): needed for readiness gates and the subnet rule.
      targetType: 'ip',
      sslPolicy: env.alb.sslPolicy ?? DEFAULT_SSL_POLICY,
      certificateArn: [...env.alb.certificateArns],
      sslRedirectPort: '443',
      loadBalancerAttributes: [{ key: 'routing.http.drop_invalid_header_fields.enabled', value: 'true' }],
    },
  });
  new KubeIngressClass(scope, 'IngressClass', {
    metadata: { name: ALB_INGRESS_CLASS },
    spec: {
      controller: ALB_CONTROLLER,
      parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: paramsName },
    },
  });
}
