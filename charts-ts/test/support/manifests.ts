/** Loads synthesized manifests as plain objects, per environment, for property checks. */
import type { System } from '@flotilla/model';
import { parseAllDocuments } from 'yaml';
import { environments } from '../../src/environments/index.js';
import type { FlotillaEnvironment } from '../../src/environments/types.js';
import { render } from '../../src/main.js';

/** One Kubernetes object as written to a manifest file. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** `[name, environment]` of every environment `make synth` writes, for `describe.each`/`it.each`. */
export const environmentCases = environments.map((e) => [e.name, e] as const);

/** Every object of every environment, parsed back from the rendered YAML text. */
export function loadManifests(
  system: System,
  environments?: readonly FlotillaEnvironment[],
): Map<string, K8sObject[]> {
  const out = new Map<string, K8sObject[]>();
  for (const [env, files] of render(system, environments)) {
    const objects: K8sObject[] = [];
    for (const text of files.values())
      for (const doc of parseAllDocuments(text)) objects.push(doc.toJS() as K8sObject);
    out.set(env, objects);
  }
  return out;
}

/** Objects of one kind. */
export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** Whether a label selector (`matchLabels` only) selects the given labels. */
export function matches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
