/**
 * Regenerates `kubernetes-<minor>.json` for every version the charts are validated against: the
 * Kubernetes OpenAPI v3 component schemas of the API groups Flotilla emits, trimmed to data validation
 * needs (descriptions and server-side-apply hints removed).
 *
 * Source: the Go module `k8s.io/kubernetes` (its `api/openapi-spec/v3/*.json`), fetched with the ordinary
 * Go client from the Go module proxy:
 *
 *   node --import tsx charts-ts/schemas/generate.ts            # uses K8S_RELEASES below
 *
 * The output is committed as data so tests and CI need neither Go nor network access.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VALIDATED_KUBERNETES_VERSIONS, type KubernetesVersion } from '../src/environments/kubernetes.js';

/** The newest patch the Go module proxy serves of each validated minor. */
const K8S_RELEASES: Record<(typeof VALIDATED_KUBERNETES_VERSIONS)[number], string> = {
  '1.34': 'v1.34.12',
  '1.36': 'v1.36.5',
};
/** The API groups whose kinds charts may emit. */
const GROUP_FILES = [
  'api__v1_openapi.json',
  'apis__apps__v1_openapi.json',
  'apis__autoscaling__v2_openapi.json',
  'apis__batch__v1_openapi.json',
  'apis__networking.k8s.io__v1_openapi.json',
  'apis__policy__v1_openapi.json',
  'apis__rbac.authorization.k8s.io__v1_openapi.json',
];
/** OpenAPI keys that carry no validation meaning for a manifest. */
const DROP = new Set([
  'description',
  'default',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-unions',
  'x-kubernetes-group-version-kind',
]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function trim(node: Json): Json {
  if (Array.isArray(node)) return node.map(trim);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(node).sort()) {
    if (DROP.has(key)) continue;
    const value = node[key]!;
    // `allOf: [{$ref}]` is how OpenAPI v3 attaches a description to a reference; only the $ref matters.
    if (key === 'allOf' && Array.isArray(value) && value.length === 1) {
      Object.assign(out, trim(value[0]!) as object);
      continue;
    }
    if (key === '$ref' && typeof value === 'string') {
      out[key] = value.replace('#/components/schemas/', '#/definitions/');
      continue;
    }
    out[key] = trim(value);
  }
  return out;
}

function generate(minor: KubernetesVersion, release: string): void {
  const info = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${release}`], {
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    }),
  ) as { Dir: string };
  const definitions: Record<string, Json> = {};
  const kinds: Record<string, string> = {};
  for (const file of GROUP_FILES) {
    const doc = JSON.parse(readFileSync(join(info.Dir, 'api/openapi-spec/v3', file), 'utf8')) as {
      components: { schemas: Record<string, { [key: string]: Json }> };
    };
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      const gvks = (schema['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[];
      for (const gvk of gvks) {
        // Only resource kinds of the listed groups (not the meta kinds every file repeats, e.g. DeleteOptions).
        if (!name.startsWith('io.k8s.api.') || gvk.kind.endsWith('List')) continue;
        kinds[`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`] = name;
      }
      definitions[name] = trim(schema);
    }
  }
  const sorted = (o: Record<string, Json>) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
  const out = { source: `k8s.io/kubernetes@${release} api/openapi-spec/v3`, kinds: sorted(kinds), definitions: sorted(definitions) };
  writeFileSync(new URL(`./kubernetes-${minor}.json`, import.meta.url), `${JSON.stringify(out)}\n`);
  console.log(`${minor} (${release}): ${Object.keys(kinds).length} kinds, ${Object.keys(definitions).length} definitions`);
}

for (const minor of VALIDATED_KUBERNETES_VERSIONS) generate(minor, K8S_RELEASES[minor]);
