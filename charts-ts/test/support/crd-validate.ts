/**
 * Validates custom resources against the openAPIV3Schema of the CRDs of the add-on table
 * (`src/addons/table.ts`: exactly the versions the charts install, and no other file of charts-ts/crds).
 *
 * The API server prunes fields a structural schema does not declare, so a typo in a field name would
 * silently disappear on `kubectl apply`. Here an undeclared field is an error instead: every object with
 * `properties` and neither `additionalProperties` nor `x-kubernetes-preserve-unknown-fields` is closed.
 * CEL rules (`x-kubernetes-validations`) are not evaluated.
 * @see https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { allCrdFiles } from '../../src/addons/index.js';

/** A Kubernetes object as synthesized: at least apiVersion and kind. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly [key: string]: unknown;
}

type JsonSchema = { [key: string]: unknown };

/** Rewrites Kubernetes' OpenAPI extensions into plain JSON Schema that ajv understands. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const src = node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(src)) {
    if (key === 'description' || key.startsWith('x-kubernetes-') || key === 'nullable') continue;
    if (key === 'properties' || key === 'patternProperties') {
      out[key] = Object.fromEntries(
        Object.entries(value as JsonSchema).map(([k, v]) => [k, toJsonSchema(v)]),
      );
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  if (src['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const preserve = src['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined && !preserve) {
    out.additionalProperties = false;
  }
  if (src.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

interface CrdVersion {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly schema: JsonSchema;
}

function loadCrds(files: readonly string[]): Map<string, CrdVersion> {
  const out = new Map<string, CrdVersion>();
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as {
        kind?: string;
        spec?: {
          group: string;
          names: { kind: string };
          versions: { name: string; schema?: { openAPIV3Schema: JsonSchema } }[];
        };
      } | null;
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const v of crd.spec.versions) {
        if (!v.schema) continue;
        const key = `${crd.spec.group}/${v.name}:${crd.spec.names.kind}`;
        out.set(key, {
          group: crd.spec.group,
          version: v.name,
          kind: crd.spec.names.kind,
          schema: v.schema.openAPIV3Schema,
        });
      }
    }
  }
  return out;
}

/** Validates custom resources; each CRD version's schema is compiled once, on first use. */
export class CrdValidator {
  private readonly crds: Map<string, CrdVersion>;
  private readonly groups: Set<string>;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv;

  /** @param files CRD files (absolute paths); every CRD file of every pinned add-on by default. */
  constructor(files: readonly string[] = allCrdFiles()) {
    this.crds = loadCrds(files);
    this.groups = new Set([...this.crds.values()].map((c) => c.group));
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    // ajv-formats is CommonJS; its default export arrives as the module object under NodeNext.
    type AddFormats = (ajv: Ajv) => Ajv;
    const mod = addFormatsModule as unknown as AddFormats & { default?: AddFormats };
    (mod.default ?? mod)(this.ajv);
    // Kubernetes' numeric and binary formats: the type keyword already checks what matters.
    for (const format of ['int32', 'int64', 'byte', 'double', 'float', 'quantity'])
      this.ajv.addFormat(format, true);
  }

  /** Whether the object's API group has a vendored CRD (so it must be validated here). */
  isCustomResource(obj: KubeObject): boolean {
    return this.groups.has(groupOf(obj.apiVersion));
  }

  /** `group/version:Kind` of every vendored CRD version. */
  knownKinds(): string[] {
    return [...this.crds.keys()].sort();
  }

  /** Problems of one object, each naming the object and the field; empty when it is valid. */
  validate(obj: KubeObject): string[] {
    const key = `${obj.apiVersion}:${obj.kind}`;
    const where = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name ?? '<unnamed>'}`;
    const crd = this.crds.get(key);
    if (!crd)
      return [
        `${where}: no CRD of a pinned add-on defines ${key}; add the add-on's CRD to charts-ts/src/addons/table.ts (see charts-ts/crds/README.md)`,
      ];
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(toJsonSchema(crd.schema) as JsonSchema);
      this.compiled.set(key, fn);
    }
    if (fn(obj)) return [];
    return (fn.errors ?? []).map((e) => {
      const extra =
        e.keyword === 'additionalProperties'
          ? ` '${String((e.params as { additionalProperty: string }).additionalProperty)}'`
          : e.keyword === 'required'
            ? ` '${String((e.params as { missingProperty: string }).missingProperty)}'`
            : '';
      return `${where}: ${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
    });
  }
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

let shared: CrdValidator | undefined;

/** One validator per test process: CRDs parsed and schemas compiled once. */
export function crdValidator(): CrdValidator {
  shared ??= new CrdValidator();
  return shared;
}
