/**
 * The subject of the synth benchmark: `renderDocuments()` + `toYaml()` of charts-ts for one environment
 * (what `make synth` does), then every object validated the way the charts tests validate: built-in kinds against the Kubernetes
 * 1.34 and 1.36 schemas, custom resources against their CRD schemas. Validators are compiled once and reused.
 */
import type { System } from '@flotilla/model';
import type { FlotillaEnvironment } from '../../../charts-ts/src/environments/types.js';
import { renderDocuments, toYaml } from '../../../charts-ts/src/main.js';
import { crdValidator, type KubeObject } from '../../../charts-ts/test/support/crd-validate.js';
import {
  validatedSchemas,
  type KubernetesSchemas,
} from '../../../charts-ts/test/support/kubernetes-schema.js';

export interface Validators {
  /** One per validated Kubernetes version. */
  readonly kubernetes: readonly KubernetesSchemas[];
  readonly crds: ReturnType<typeof crdValidator>;
}

export function validators(): Validators {
  return { kubernetes: validatedSchemas(), crds: crdValidator() };
}

export interface SynthResult {
  readonly objects: number;
  readonly renderMs: number;
  readonly validateMs: number;
}

export function renderAndValidate(
  system: System,
  environment: FlotillaEnvironment,
  v: Validators,
): SynthResult {
  const started = performance.now();
  // What `make synth` does: the objects, then their YAML text (written to dist/ there).
  const documents = renderDocuments(system, [environment]);
  toYaml(documents);
  const rendering = performance.now();
  let objects = 0;
  const problems: string[] = [];
  for (const files of documents.values()) {
    for (const docs of files.values()) {
      for (const doc of docs) {
        const object = doc as KubeObject;
        objects++;
        if (v.kubernetes.every((k8s) => k8s.has(object.apiVersion, object.kind))) {
          for (const k8s of v.kubernetes)
            for (const p of k8s.validate(object))
              problems.push(`${k8s.version} ${p.object} ${p.path}: ${p.message}`);
        } else {
          problems.push(...v.crds.validate(object));
        }
      }
    }
  }
  if (problems.length > 0)
    throw new Error(`${problems.length} invalid objects, e.g. ${problems.slice(0, 3).join('; ')}`);
  return { objects, renderMs: rendering - started, validateMs: performance.now() - rendering };
}
