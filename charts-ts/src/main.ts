/**
 * `make synth`: every environment of the shop to `dist/<env>/*.k8s.yaml`.
 *
 * Rendering happens in memory for all environments first; files are written only when everything
 * succeeded, so a bad model or environment writes nothing. The output is byte-identical run to run
 * (no timestamps, no hashes, stable key and object order).
 */
import { defineSystem, isSystem, type System, type SystemDefinition } from '@flotilla/model';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { environments as allEnvironments } from './environments/index.js';
import type { FlotillaEnvironment } from './environments/types.js';
import { validateEnvironment } from './environments/validate.js';
import { buildEnvironmentCharts } from './system-chart.js';
import { argoCdCharts, kindsOf } from './constructs/argocd.js';
import { iamPolicyFiles } from './iam-json.js';
import { App } from 'cdk8s';

/** Rendered manifests: environment name -> file name -> YAML text. */
export type RenderedManifests = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** Synthesized objects: environment name -> file name -> the Kubernetes objects of that file. */
export type RenderedDocuments = ReadonlyMap<string, ReadonlyMap<string, readonly object[]>>;

/**
 * Synthesizes every environment of a system to objects (what `render` writes as YAML; tests and the
 * benchmark validate these directly instead of parsing the YAML back). Throws ModelError /
 * EnvironmentError before synthesizing anything.
 */
export function renderDocuments(
  system: System | SystemDefinition,
  environments: readonly FlotillaEnvironment[] = allEnvironments,
): RenderedDocuments {
  const model = isSystem(system) ? system : defineSystem(system);
  for (const env of environments) validateEnvironment(env);
  const out = new Map<string, Map<string, readonly object[]>>();
  for (const env of environments) {
    const files = new Map<string, readonly object[]>();
    for (const { file, chart } of buildEnvironmentCharts(model, env)) {
      const docs = chart.toJson();
      if (docs.length > 0) files.set(file, docs);
    }
    // The system's AppProject allows exactly the kinds these files render.
    const renderedKinds = kindsOf([...files.values()].flat() as Parameters<typeof kindsOf>[0]);
    // GitOps (argocd/): a subfolder, so `kubectl apply -f dist/<env>` skips it.
    for (const { file, chart } of argoCdCharts(new App(), {
      system: model,
      environment: env,
      renderedKinds,
    })) {
      files.set(file, chart.toJson());
    }
    out.set(env.name, files);
  }
  return out;
}

/** Renders every environment of a system to YAML. Throws ModelError / EnvironmentError before rendering anything. */
export function render(
  system: System | SystemDefinition,
  environments: readonly FlotillaEnvironment[] = allEnvironments,
): RenderedManifests {
  return toYaml(renderDocuments(system, environments));
}

/** The YAML text of each file: its objects as documents separated by `---`. */
export function toYaml(documents: RenderedDocuments): RenderedManifests {
  const out = new Map<string, Map<string, string>>();
  for (const [env, files] of documents) {
    const texts = new Map<string, string>();
    for (const [file, docs] of files) {
      texts.set(
        file,
        docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'),
      );
    }
    out.set(env, texts);
  }
  return out;
}

/** Renders, then replaces `<outDir>/<env>/` of every environment. Writes nothing when rendering fails. */
export function synth(
  system: System | SystemDefinition,
  outDir: string,
  environments: readonly FlotillaEnvironment[] = allEnvironments,
): RenderedManifests {
  // Validated once: `render` accepts the model as is.
  const model = isSystem(system) ? system : defineSystem(system);
  const rendered = render(model, environments);
  for (const [env, files] of rendered) {
    const dir = join(outDir, env);
    // Stale files of removed services must not linger and be applied.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    // Plain IAM JSON for Terraform/CDK users (not Kubernetes manifests, so not part of `render`).
    const environment = environments.find((e) => e.name === env)!;
    for (const [file, text] of Object.entries(iamPolicyFiles(model, environment))) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
  }
  return rendered;
}

async function cli(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../dist'));
  try {
    // Imported here so that a bad model (defineSystem throws at import) is reported like any other error.
    const { shop } = await import('../../services/system.js');
    const rendered = synth(shop, outDir);
    for (const [env, files] of rendered) console.log(`${join(outDir, env)}: ${files.size} files`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await cli();
