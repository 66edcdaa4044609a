/**
 * The order `flotilla deploy` applies objects in: each phase only after the one before it, so that what an
 * object needs exists first (its namespace, its CRD, the add-on that serves it, the platform objects a
 * service reads) and traffic is routed last, to services that exist.
 */
import { LABEL, SERVICE_COMPONENT } from '@flotilla/charts/names';
import type { Manifest } from './manifests.js';
import { groupOf, type KubeObject } from './objects.js';

/**
 * The phases, in apply order:
 * - `namespaces`: Namespaces (every namespaced object needs its namespace).
 * - `crds`: CustomResourceDefinitions; deploy waits until each is `Established` before going on, since
 *   the API server rejects a custom resource whose type it does not serve yet.
 * - `addons`: Argo CD AppProjects and Applications, the way the charts install add-ons.
 * - `platform`: everything the services use (collector, queues, topics, IAM, secrets, network policies).
 * - `services`: the services' own objects (`app.kubernetes.io/component: service`).
 * - `ingress`: Ingresses, IngressClasses and their parameters, Gateway API routes: traffic comes last.
 */
export const PHASES = ['namespaces', 'crds', 'addons', 'platform', 'services', 'ingress'] as const;

/** One of {@link PHASES}. */
export type Phase = (typeof PHASES)[number];

const INGRESS_KINDS = new Set([
  'networking.k8s.io/Ingress',
  'networking.k8s.io/IngressClass',
  'elbv2.k8s.aws/IngressClassParams',
]);
const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const ARGO_CD_GROUP = 'argoproj.io';

/** The phase an object is applied in. */
export function phaseOf(object: KubeObject): Phase {
  const group = groupOf(object.apiVersion);
  if (group === '' && object.kind === 'Namespace') return 'namespaces';
  if (group === 'apiextensions.k8s.io' && object.kind === 'CustomResourceDefinition') return 'crds';
  if (group === ARGO_CD_GROUP) return 'addons';
  if (INGRESS_KINDS.has(`${group}/${object.kind}`) || group === GATEWAY_GROUP) return 'ingress';
  if (object.metadata.labels?.[LABEL.component] === SERVICE_COMPONENT) return 'services';
  return 'platform';
}

/** The manifests of one phase, in the order they were read. */
export interface PhasePlan {
  readonly phase: Phase;
  readonly manifests: readonly Manifest[];
}

/** Groups manifests into phases in apply order; empty phases are left out; the read order is kept within one. */
export function planPhases(manifests: readonly Manifest[]): PhasePlan[] {
  return PHASES.map((phase) => ({
    phase,
    manifests: manifests.filter((m) => phaseOf(m.object) === phase),
  })).filter((plan) => plan.manifests.length > 0);
}
