/**
 * The recommended `app.kubernetes.io/*` labels of a service's objects, and the subset its selectors use.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
 */
import { LABEL, MANAGED_BY, SERVICE_COMPONENT } from './environments/names.js';

/** What identifies one service's objects. */
export interface ServiceLabelInput {
  /** The system name (`app.kubernetes.io/part-of`). */
  readonly system: string;
  /** The service name (`app.kubernetes.io/name`). */
  readonly service: string;
  /** The deployed version (`app.kubernetes.io/version`), e.g. the image tag. */
  readonly version: string;
  /** The role of the workload (`app.kubernetes.io/component`). @default 'service' */
  readonly component?: string;
}

/**
 * Labels that select a service's pods. Only labels that never change over the service's life: a
 * Deployment's selector is immutable, so `version` (which changes every release) must stay out of it.
 */
export function selectorLabels(system: string, service: string): Record<string, string> {
  return { [LABEL.name]: service, [LABEL.instance]: `${system}-${service}` };
}

/** Every recommended label of a service's objects (and its pods). */
export function serviceLabels(input: ServiceLabelInput): Record<string, string> {
  return {
    ...selectorLabels(input.system, input.service),
    [LABEL.version]: input.version,
    [LABEL.component]: input.component ?? SERVICE_COMPONENT,
    [LABEL.partOf]: input.system,
    [LABEL.managedBy]: MANAGED_BY,
  };
}

/**
 * Labels that select the pods of a platform component running in the system's namespace (collector,
 * emulator, Postgres): its workload's selector, and the peer of the NetworkPolicies that let services in.
 */
export function componentSelector(name: string): Record<string, string> {
  return { [LABEL.name]: name };
}

/**
 * Labels of a platform component running in the system's namespace (collector, emulator, Postgres) and the
 * subset its selector uses ({@link componentSelector}): the component name is its `app.kubernetes.io/name`.
 */
export function componentLabels(
  system: string,
  name: string,
  component: string,
): { labels: Record<string, string>; selector: Record<string, string> } {
  const selector = componentSelector(name);
  return {
    selector,
    labels: {
      ...selector,
      [LABEL.component]: component,
      [LABEL.partOf]: system,
      [LABEL.managedBy]: MANAGED_BY,
    },
  };
}
