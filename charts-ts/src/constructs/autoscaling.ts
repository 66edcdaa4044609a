/**
 * A service's autoscaler: a HorizontalPodAutoscaler on CPU, or a KEDA ScaledObject on the depth of the
 * queues it consumes. Never both on one Deployment (two controllers would fight over `replicas`), and
 * the Deployment then carries no `replicas` field (so a re-apply never resets the autoscaler's count).
 */
import { EMULATOR_CREDENTIALS, messagingResources, type Service, type System } from '@flotilla/model';
import { ApiObject } from 'cdk8s';
import type * as kplus from 'cdk8s-plus-34';
import { KubeHorizontalPodAutoscalerV2, KubeSecret } from 'cdk8s-plus-34/lib/imports/k8s.js';
import { Construct } from 'constructs';
import type { FlotillaEnvironment, ReplicaBounds } from '../environments/types.js';
import { kedaAwsPodIdentity } from '../iam-json.js';

/** KEDA API version of ScaledObject and TriggerAuthentication. @see https://keda.sh/docs/latest/reference/scaledobject-spec/ */
export const KEDA_API_VERSION = 'keda.sh/v1alpha1';

export interface AutoscalingProps {
  readonly system: System;
  readonly service: Service;
  readonly environment: FlotillaEnvironment;
  /** The Deployment to scale; marked as autoscaled so it carries no `replicas`. */
  readonly deployment: kplus.Deployment;
  /**
   * Replica bounds.
   * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
   */
  readonly bounds: ReplicaBounds;
  /** Labels of the autoscaler objects (the service's labels). */
  readonly labels: Readonly<Record<string, string>>;
}

/** The autoscaler of one service, chosen by the model's `scaling.kind`. */
export class Autoscaling extends Construct {
  /** `HorizontalPodAutoscaler` or `ScaledObject`. */
  readonly kind: 'HorizontalPodAutoscaler' | 'ScaledObject';

  constructor(scope: Construct, id: string, props: AutoscalingProps) {
    super(scope, id);
    const { service, environment: env, deployment, bounds } = props;
    deployment.markHasAutoscaler();
    const metadata = { name: service.name, namespace: env.namespace, labels: { ...props.labels } };
    const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name };

    if (service.scaling.kind === 'cpu') {
      this.kind = 'HorizontalPodAutoscaler';
      new KubeHorizontalPodAutoscalerV2(this, 'Hpa', {
        metadata,
        spec: {
          scaleTargetRef: target,
          // The HPA cannot scale to zero (HPAScaleToZero is alpha); queue scaling via KEDA can.
          minReplicas: Math.max(1, bounds.min),
          maxReplicas: bounds.max,
          metrics: [
            {
              type: 'Resource',
              resource: {
                name: 'cpu',
                target: { type: 'Utilization', averageUtilization: service.scaling.targetUtilization },
              },
            },
          ],
        },
      });
      return;
    }

    this.kind = 'ScaledObject';
    const queues = messagingResources(props.system, env.runtime).queues.filter(
      (q) => q.service === service.name,
    );
    const auth = triggerAuthentication(this, props, metadata);
    new ApiObject(this, 'ScaledObject', {
      apiVersion: KEDA_API_VERSION,
      kind: 'ScaledObject',
      metadata,
      spec: {
        scaleTargetRef: target,
        minReplicaCount: bounds.min,
        maxReplicaCount: bounds.max,
        // One trigger per consumed queue: KEDA scales to the largest replica count any of them asks for.
        triggers: queues.map((q) => ({
          type: 'aws-sqs-queue',
          name: q.key,
          authenticationRef: { name: auth },
          metadata: {
            queueURL: q.url,
            queueLength: String(service.scaling.kind === 'queue' ? service.scaling.messagesPerReplica : 1),
            awsRegion: env.runtime.aws.region,
            ...(env.runtime.messagingEndpoint ? { awsEndpoint: env.runtime.messagingEndpoint } : {}),
          },
        })),
      },
    });
  }
}

/**
 * How KEDA authenticates to SQS for a service:
 * - EKS (Pod Identity or IRSA): the operator's own identity (`identityOwner: keda`), whose policy grants only
 *   `sqs:GetQueueAttributes` on the queues of queue-scaled services (see `kedaOperatorPolicy`). Assuming the
 *   service's role instead would need that role to trust KEDA and would hand KEDA receive/delete rights.
 * - kind: the emulator accepts any credentials; a Secret with placeholder keys keeps KEDA's AWS SDK from
 *   looking for real ones. These are not secrets.
 * @see https://keda.sh/docs/latest/authentication-providers/aws/
 */
function triggerAuthentication(
  scope: Construct,
  props: AutoscalingProps,
  metadata: { name: string; namespace: string; labels: Record<string, string> },
): string {
  const { service, environment: env } = props;
  const name = `${service.name}-sqs`;
  const meta = { ...metadata, name };
  let spec: Record<string, unknown>;
  if (env.platform === 'eks') {
    spec = { podIdentity: kedaAwsPodIdentity() };
  } else {
    new KubeSecret(scope, 'EmulatorCredentials', {
      metadata: meta,
      stringData: {
        awsAccessKeyID: EMULATOR_CREDENTIALS.accessKeyId,
        awsSecretAccessKey: EMULATOR_CREDENTIALS.secretAccessKey,
      },
    });
    spec = {
      secretTargetRef: [
        { parameter: 'awsAccessKeyID', name, key: 'awsAccessKeyID' },
        { parameter: 'awsSecretAccessKey', name, key: 'awsSecretAccessKey' },
      ],
    };
  }
  new ApiObject(scope, 'TriggerAuthentication', {
    apiVersion: KEDA_API_VERSION,
    kind: 'TriggerAuthentication',
    metadata: meta,
    spec,
  });
  return name;
}
