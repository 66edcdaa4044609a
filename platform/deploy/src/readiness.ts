/**
 * When an applied object is ready, read from its status the way the controllers write it: a CRD once the
 * API server serves it (`Established`), a Deployment once its new pods are available (the checks of
 * `kubectl rollout status`), a StatefulSet once its updated replicas are ready.
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status
 */
import { groupOf, type KubeObject } from './objects.js';

/** Where an object stands. */
export interface Readiness {
  /** `ready`: done; `waiting`: not yet; `failed`: it will not get there without a change. */
  readonly state: 'ready' | 'waiting' | 'failed';
  /** What a person reads next to the object's name. */
  readonly message: string;
}

interface Condition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

interface WorkloadShape {
  readonly metadata: { readonly generation?: number };
  readonly spec?: { readonly replicas?: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly replicas?: number;
    readonly updatedReplicas?: number;
    readonly readyReplicas?: number;
    readonly availableReplicas?: number;
    readonly conditions?: readonly Condition[];
  };
}

/** Whether deploy waits for objects of this kind (Deployments, StatefulSets; CRDs always, before their CRs). */
export function isWaitedFor(object: KubeObject): boolean {
  const group = groupOf(object.apiVersion);
  return group === 'apps' && (object.kind === 'Deployment' || object.kind === 'StatefulSet');
}

/** Readiness of a CustomResourceDefinition. */
export function crdReadiness(crd: KubeObject): Readiness {
  const conditions = ((crd as { status?: { conditions?: Condition[] } }).status?.conditions ??
    []) as Condition[];
  const names = conditions.find((c) => c.type === 'NamesAccepted');
  if (names?.status === 'False')
    return { state: 'failed', message: `names not accepted: ${names.message ?? names.reason}` };
  const established = conditions.find((c) => c.type === 'Established');
  if (established?.status === 'True') return { state: 'ready', message: 'established' };
  return {
    state: 'waiting',
    message: `not established yet${established?.message ? `: ${established.message}` : ''}`,
  };
}

/** Readiness of a Deployment or StatefulSet after an apply. */
export function rolloutReadiness(object: KubeObject): Readiness {
  const workload = object as unknown as WorkloadShape;
  const status = workload.status ?? {};
  const wanted = workload.spec?.replicas ?? 1;
  if ((status.observedGeneration ?? 0) < (workload.metadata.generation ?? 1)) {
    return { state: 'waiting', message: 'waiting for the controller to see the new spec' };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      state: 'failed',
      message: `rollout exceeded its progress deadline: ${progressing.message ?? ''}`.trim(),
    };
  }
  const updated = status.updatedReplicas ?? 0;
  if (updated < wanted) return { state: 'waiting', message: `${updated}/${wanted} replicas updated` };
  if ((status.replicas ?? 0) > updated) {
    return { state: 'waiting', message: `${(status.replicas ?? 0) - updated} old replica(s) terminating` };
  }
  const ready = object.kind === 'StatefulSet' ? (status.readyReplicas ?? 0) : (status.availableReplicas ?? 0);
  if (ready < updated)
    return {
      state: 'waiting',
      message: `${ready}/${wanted} replicas ${object.kind === 'StatefulSet' ? 'ready' : 'available'}`,
    };
  return {
    state: 'ready',
    message: `${ready}/${wanted} replicas ${object.kind === 'StatefulSet' ? 'ready' : 'available'}`,
  };
}
