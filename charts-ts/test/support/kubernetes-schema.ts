/**
 * Validates objects against the Kubernetes OpenAPI schemas committed in `charts-ts/schemas/`, one file
 * per validated minor version (see `generate.ts` there for their source).
 *
 * Strict like `kubeconform -strict`: every object schema that lists its properties and says nothing about
 * extra ones gets `additionalProperties: false`, so a misspelt or misplaced field fails instead of being
 * silently pruned by the API server. Schemas are compiled once per kind and cached.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { VALIDATED_KUBERNETES_VERSIONS } from '../../src/environments/kubernetes.js';

interface SchemaFile {
  readonly source: string;
  readonly kinds: Record<string, string>;
  readonly definitions: Record<string, unknown>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function strict(node: Json): Json {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'enum' || k === 'required' ? v : strict(v);
  if (
    out.properties &&
    typeof out.properties === 'object' &&
    out.additionalProperties === undefined &&
    !out['x-kubernetes-preserve-unknown-fields']
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/** One validation failure: which object, where in it, what is wrong. */
export interface SchemaProblem {
  readonly object: string;
  readonly path: string;
  readonly message: string;
}

/** A Kubernetes minor version whose schemas are committed. */
export type ValidatedVersion = (typeof VALIDATED_KUBERNETES_VERSIONS)[number];

/** A validator for the built-in kinds of one Kubernetes minor version. */
export class KubernetesSchemas {
  readonly source: string;
  private readonly ajv: Ajv;
  private readonly kinds: Record<string, string>;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(readonly version: ValidatedVersion) {
    const file = new URL(`../../schemas/kubernetes-${version}.json`, import.meta.url);
    const data = JSON.parse(readFileSync(file, 'utf8')) as SchemaFile;
    this.source = data.source;
    this.kinds = data.kinds;
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    // OpenAPI number formats: the type already constrains them; int32/int64 ranges are checked here.
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
    });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    this.ajv.addFormat('double', { type: 'number', validate: () => true });
    for (const f of ['byte', 'date-time', 'int-or-string']) this.ajv.addFormat(f, true);
    this.ajv.addSchema({ $id: 'k8s', definitions: strict(data.definitions as Json) });
  }

  /** Whether a schema exists for `apiVersion` + `kind`. */
  has(apiVersion: string, kind: string): boolean {
    return `${apiVersion}/${kind}` in this.kinds;
  }

  /** Problems of one object; empty when valid. Throws for kinds without a schema. */
  validate(object: { apiVersion: string; kind: string; metadata?: { name?: string } }): SchemaProblem[] {
    const key = `${object.apiVersion}/${object.kind}`;
    const definition = this.kinds[key];
    if (!definition)
      throw new Error(`no Kubernetes ${this.version} schema for ${key} (object "${object.metadata?.name}")`);
    let fn = this.cache.get(definition);
    if (!fn) {
      fn = this.ajv.compile({ $ref: `k8s#/definitions/${definition}` });
      this.cache.set(definition, fn);
    }
    const name = `${object.kind}/${object.metadata?.name}`;
    if (fn(object)) return [];
    return (fn.errors ?? []).map((e) => ({
      object: name,
      path: e.instancePath || '/',
      message: `${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
    }));
  }
}

/** One validator per validated version, oldest first. */
export const validatedSchemas = (): KubernetesSchemas[] =>
  VALIDATED_KUBERNETES_VERSIONS.map((v) => new KubernetesSchemas(v));
