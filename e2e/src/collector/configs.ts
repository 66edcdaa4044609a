/**
 * The collector configurations as the charts emit them: read from the rendered `dist/<env>/` (the
 * collector ConfigMap's `config.yaml`), not recomputed, so what is checked is what Argo CD deploys.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { OTEL_COLLECTOR } from '@flotilla/charts';

/** One environment's collector configuration. */
export interface EmittedCollectorConfig {
  /** The environment (`dist/<env>/`). */
  readonly env: string;
  /** The manifest file it was read from, relative to the dist directory. */
  readonly file: string;
  /** `config.yaml` as written. */
  readonly yaml: string;
  readonly config: Record<string, unknown>;
}

interface ConfigMap {
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, string>;
}

/** Every environment's collector configuration under `distDir`; throws when an environment has none. */
export function emittedCollectorConfigs(distDir: string): EmittedCollectorConfig[] {
  const out: EmittedCollectorConfig[] = [];
  for (const env of readdirSync(distDir).sort()) {
    const files = readdirSync(join(distDir, env)).filter((f) => f.endsWith('.k8s.yaml'));
    const found = files.flatMap((file) =>
      parseAllDocuments(readFileSync(join(distDir, env, file), 'utf8'))
        .map((doc) => doc.toJS() as ConfigMap | null)
        .filter((o) => o?.kind === 'ConfigMap' && o.metadata?.name === OTEL_COLLECTOR.name)
        .map((o) => ({ file: `${env}/${file}`, yaml: o!.data?.['config.yaml'] })),
    );
    if (found.length !== 1 || found[0]!.yaml === undefined) {
      throw new Error(
        `dist/${env}/ holds ${found.length} ConfigMap ${OTEL_COLLECTOR.name} with a config.yaml, not one: run make synth.`,
      );
    }
    const { file, yaml } = found[0]! as { file: string; yaml: string };
    out.push({ env, file, yaml, config: parse(yaml) as Record<string, unknown> });
  }
  return out;
}

const SECTIONS = ['receivers', 'processors', 'exporters', 'extensions'] as const;

interface Pipeline {
  receivers?: string[];
  processors?: string[];
  exporters?: string[];
}

/**
 * The configuration with only the components a binary has (`kind/type` ids): the others are removed from
 * their section, from every pipeline and from `service.extensions`, and a pipeline left with no exporter
 * gets `debug`, so the rest still loads. Returns what was changed, one sentence each: a check that
 * used this says exactly what it did not check. With every component available, nothing changes.
 */
export function restrictTo(
  config: Record<string, unknown>,
  available: readonly string[],
): { config: Record<string, unknown>; changes: string[] } {
  const copy = structuredClone(config) as Record<string, Record<string, unknown> | undefined>;
  const changes: string[] = [];
  const has = (kind: string, id: string) => available.includes(`${kind}/${id.split('/')[0]}`);
  const removed = new Set<string>();
  for (const kind of SECTIONS) {
    for (const id of Object.keys(copy[kind] ?? {})) {
      if (has(kind, id)) continue;
      delete copy[kind]![id];
      removed.add(id);
      changes.push(`left out ${kind}.${id} (not in this build)`);
    }
  }
  const service = (copy.service ?? {}) as { extensions?: string[]; pipelines?: Record<string, Pipeline> };
  if (service.extensions) service.extensions = service.extensions.filter((e) => !removed.has(e));
  for (const [name, pipeline] of Object.entries(service.pipelines ?? {})) {
    for (const part of ['receivers', 'processors', 'exporters'] as const)
      if (pipeline[part]) pipeline[part] = pipeline[part].filter((id) => !removed.has(id));
    if ((pipeline.exporters ?? []).length === 0 && has('exporters', 'debug')) {
      pipeline.exporters = ['debug'];
      copy.exporters = { ...copy.exporters, debug: copy.exporters?.debug ?? {} };
      changes.push(`pipeline ${name} exports to debug instead`);
    }
  }
  return { config: copy, changes };
}

/**
 * Detectors of the resource_detection processor that the collector can create only inside a Kubernetes
 * pod: `eks` loads the in-cluster client configuration (the service account token file and
 * KUBERNETES_SERVICE_HOST, `rest.InClusterConfig`) when its pipeline is built, which `validate` does too,
 * and fails anywhere else. The collector's pod has both (its ServiceAccount's token is mounted).
 * @see https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/resourcedetectionprocessor#amazon-eks
 */
const IN_CLUSTER_DETECTORS = ['eks'];

/**
 * The configuration without the resource_detection detectors that need a Kubernetes pod, for checks run
 * outside one; returns what was changed, one sentence each (nothing for a configuration without them).
 */
export function outsideCluster(config: Record<string, unknown>): {
  config: Record<string, unknown>;
  changes: string[];
} {
  const copy = structuredClone(config) as { processors?: Record<string, { detectors?: string[] }> };
  const changes: string[] = [];
  for (const [id, processor] of Object.entries(copy.processors ?? {})) {
    if (id.split('/')[0] !== 'resource_detection' || !processor.detectors) continue;
    const kept = processor.detectors.filter((d) => !IN_CLUSTER_DETECTORS.includes(d));
    for (const d of processor.detectors.filter((x) => !kept.includes(x)))
      changes.push(`left out processors.${id}.detectors ${d} (created only inside a Kubernetes pod)`);
    processor.detectors = kept;
  }
  return { config: copy as Record<string, unknown>, changes };
}
