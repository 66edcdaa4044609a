/**
 * OpenAPI 3.1 documents from declared APIs: a service's own (`openApiDocument`, served at `/openapi.json` and
 * written to `docs/api/<service>.json` by `make openapi`), and the public one of a system, which holds only the
 * operations behind its front door (`publicOpenApiDocument`). Schemas come from zod's own JSON Schema output
 * (draft 2020-12, the dialect of OpenAPI 3.1): requests as the service accepts them (zod input), responses as
 * it sends them (zod output).
 * @see https://spec.openapis.org/oas/v3.1.0
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import {
  openApiPath,
  routeResponses,
  type Api,
  type FieldsSchema,
  type NormalizedResponse,
  type RouteSpec,
} from './contract.js';

/** A JSON value of a document. */
export type JsonObject = { [key: string]: unknown };

/** An OpenAPI 3.1 document (the members the kit writes; see the specification for the rest). */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string; readonly description?: string };
  readonly tags?: readonly { readonly name: string; readonly description?: string }[];
  readonly paths: Readonly<Record<string, Readonly<Record<string, JsonObject>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, JsonObject>> };
}

export const OPENAPI_VERSION = '3.1.0';

/** Where a service serves its own document. */
export const OPENAPI_PATH = '/openapi.json';

/** Named schemas (zod `meta({ id })`) collected while converting, for `components.schemas`. */
class Components {
  readonly schemas: Record<string, JsonObject> = {};

  add(id: string, schema: JsonObject, where: string): void {
    const existing = this.schemas[id];
    if (existing !== undefined && !isDeepStrictEqual(existing, schema))
      throw new Error(
        `${where}: two different schemas are named "${id}" (zod meta id); give each schema its own id.`,
      );
    this.schemas[id] = schema;
  }
}

/**
 * Text the kit accepts in a request (`refuseUnstorableText`): no NUL. The kit also refuses a UTF-16 surrogate
 * without its pair, which a pattern cannot say portably (validators that work on Unicode scalar values, such as
 * Rust's, cannot compile a surrogate escape and would drop the whole pattern); the 400 response says it.
 */
export const STORABLE_TEXT_PATTERN = '^[^\\u0000]*$';

/** What a request schema's JSON Schema must add to zod's to describe what the kit accepts. */
interface RequestRules {
  /** validate() refuses body fields the schema does not declare: the document says so. */
  readonly closeObjects: boolean;
}

/** The JSON Schema of a zod schema, its named parts moved to `components.schemas`. */
function jsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Components,
  where: string,
  request?: RequestRules,
): JsonObject {
  let json: JsonObject;
  try {
    json = z.toJSONSchema(schema, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'throw',
      override: request === undefined ? undefined : (ctx) => describeRequest(ctx, request),
    }) as JsonObject;
  } catch (err) {
    throw new Error(
      `${where} cannot be described in JSON Schema: ${err instanceof Error ? err.message : String(err)}. ` +
        'Declare it with JSON types (a transform or custom type needs a JSON-typed input and output).',
      { cause: err },
    );
  }
  const { $schema: _dialect, $defs, ...rest } = json;
  for (const [id, def] of Object.entries(($defs as Record<string, JsonObject> | undefined) ?? {}))
    components.add(id, rewriteRefs(def) as JsonObject, where);
  return rewriteRefs(rest) as JsonObject;
}

/**
 * Adds to zod's JSON Schema of a request part what the kit enforces besides the schema: every string (value or
 * key) is storable text (a 400 otherwise, see `refuseUnstorableText`), and with `closeObjects` an object that
 * strips unknown keys (plain `z.object`) refuses them (`additionalProperties: false`, as validate() does).
 */
function describeRequest(ctx: { zodSchema: unknown; jsonSchema: JsonObject }, rules: RequestRules): void {
  const json = ctx.jsonSchema;
  if (
    json.type === 'string' &&
    json.enum === undefined &&
    json.const === undefined &&
    json.format === undefined
  )
    if (json.pattern === undefined) json.pattern = STORABLE_TEXT_PATTERN;
    else
      json.allOf = [...((json.allOf as JsonObject[] | undefined) ?? []), { pattern: STORABLE_TEXT_PATTERN }];
  if (json.type !== 'object') return;
  const def = (ctx.zodSchema as { _zod?: { def?: { type?: string; catchall?: unknown } } })._zod?.def;
  if (
    rules.closeObjects &&
    def?.type === 'object' &&
    def.catchall === undefined &&
    json.additionalProperties === undefined
  )
    json.additionalProperties = false;
  if (json.additionalProperties !== false) json.propertyNames = { pattern: STORABLE_TEXT_PATTERN };
}

/** `#/$defs/X` (zod's) -> `#/components/schemas/X` (the document's). */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value))
    out[k] =
      k === '$ref' && typeof v === 'string'
        ? v.replace(/^#\/\$defs\//, '#/components/schemas/')
        : rewriteRefs(v);
  return out;
}

/** OpenAPI parameters of a fields schema: one per field, `required` as zod's input says. */
function parameters(
  schema: FieldsSchema | undefined,
  location: 'path' | 'query' | 'header',
  components: Components,
  where: string,
): JsonObject[] {
  if (schema === undefined) return [];
  const json = jsonSchema(schema, 'input', components, `${where} ${location} parameters`, {
    closeObjects: false,
  });
  const properties = (json.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function responseObject(response: NormalizedResponse, components: Components, where: string): JsonObject {
  const out: JsonObject = { description: response.description };
  if (response.headers !== undefined) {
    const json = jsonSchema(response.headers, 'output', components, `${where} headers`);
    const required = new Set((json.required ?? []) as string[]);
    out.headers = Object.fromEntries(
      Object.entries((json.properties ?? {}) as Record<string, JsonObject>).map(([name, property]) => {
        const { description, ...rest } = property;
        return [
          name,
          {
            required: required.has(name),
            ...(typeof description === 'string' ? { description } : {}),
            schema: rest,
          },
        ];
      }),
    );
  }
  if (response.body !== undefined)
    out.content = {
      [response.contentType]: { schema: jsonSchema(response.body, 'output', components, `${where} body`) },
    };
  if (Object.keys(response.links).length > 0)
    out.links = Object.fromEntries(
      Object.entries(response.links).map(([name, link]) => [
        name,
        {
          operationId: link.operationId,
          parameters: link.parameters,
          ...(link.description === undefined ? {} : { description: link.description }),
        },
      ]),
    );
  return out;
}

function operation(api: Api, key: string, route: RouteSpec, components: Components): JsonObject {
  const where = `${api.service}: route "${key}" (${route.method} ${route.path})`;
  const out: JsonObject = {
    operationId: key,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [...(route.tags ?? [api.service])],
    ...(route.deprecated === true ? { deprecated: true } : {}),
  };
  const params = [
    ...parameters(route.params, 'path', components, where),
    ...parameters(route.query, 'query', components, where),
    ...parameters(route.headers, 'header', components, where),
  ];
  if (params.length > 0) out.parameters = params;
  if (route.body !== undefined)
    out.requestBody = {
      required: true,
      content: {
        'application/json': {
          schema: jsonSchema(route.body, 'input', components, `${where} body`, {
            closeObjects: route.unknownBodyFields !== 'strip',
          }),
        },
      },
    };
  out.responses = Object.fromEntries(
    [...routeResponses(route)].map(([status, response]) => [
      String(status),
      responseObject(response, components, `${where} response ${status}`),
    ]),
  );
  return out;
}

/**
 * The OpenAPI 3.1 document of one service's API: an operation per route (the route key is its `operationId`),
 * with the responses the kit adds (see `impliedResponses`). Byte-identical run to run for the same declaration.
 */
export function openApiDocument(api: Api): OpenApiDocument {
  const components = new Components();
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const [key, route] of Object.entries(api.routes)) {
    const path = openApiPath(route.path);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(api, key, route, components);
  }
  return finish(
    { title: `${api.service} API`, version: api.version, description: api.description },
    paths,
    components.schemas,
  );
}

/** Responses the front door (the local gateway, the ALB) gives for any public operation. */
const FRONT_DOOR_RESPONSES: Readonly<Record<string, JsonObject>> = {
  '502': {
    description:
      'The front door could not get an answer from the service (the local gateway answers problem+json; the ALB its own page).',
  },
  '503': {
    description:
      'No instance of the service is ready (starting, restarting or failing its readiness); retry after `Retry-After`.',
  },
  '504': { description: 'The service did not answer within the front door’s timeout.' },
};

/** One service's part of a public document. */
export interface PublicPart {
  readonly service: string;
  /** The path prefixes the front door routes to the service (the model's `routes`). */
  readonly prefixes: readonly string[];
  /** The service's own document (`openApiDocument`, or what its `/openapi.json` serves). */
  readonly document: OpenApiDocument;
}

/** The `info.title` of a system's public document, e.g. `shop public API`. */
export function publicDocumentTitle(system: string): string {
  return `${system} public API`;
}

/** Options of {@link publicOpenApiDocument}. */
export interface PublicDocumentOptions {
  /** `info.title`, e.g. `shop public API`. */
  readonly title: string;
  /** `info.description`. @default - lists the services */
  readonly description?: string;
}

/**
 * Kubernetes `Prefix` match: element-wise on `/`-separated path segments, so `/api/orders` matches
 * `/api/orders`, `/api/orders/` and `/api/orders/42`, but not `/api/ordersx`.
 * @see https://kubernetes.io/docs/concepts/services-networking/ingress/#path-types
 */
export function matchesPathPrefix(path: string, prefix: string): boolean {
  const p = prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
  if (p === '/') return true;
  return path === p || path.startsWith(`${p}/`);
}

/**
 * The public document of a system: the operations of each service whose path is under one of the service's
 * front-door prefixes, as the gateway and the ALB expose them (same paths: the front door routes by prefix
 * and does not rewrite), each with the front door's own 502/503/504. `info.version` names every part's version.
 */
export function publicOpenApiDocument(
  parts: readonly PublicPart[],
  options: PublicDocumentOptions,
): OpenApiDocument {
  const schemas = new Components();
  const paths: Record<string, Record<string, JsonObject>> = {};
  const operationIds = new Map<string, string>();
  const used: PublicPart[] = [];
  for (const part of [...parts].sort((a, b) => a.service.localeCompare(b.service))) {
    let any = false;
    for (const [path, item] of Object.entries(part.document.paths)) {
      if (!part.prefixes.some((prefix) => matchesPathPrefix(path, prefix))) continue;
      any = true;
      for (const [method, op] of Object.entries(item)) {
        const id = String(op.operationId);
        const other = operationIds.get(id);
        if (other !== undefined)
          throw new Error(
            `Public API: services "${other}" and "${part.service}" both have an operation "${id}"; ` +
              'operation ids must be unique behind the front door: rename one route key.',
          );
        operationIds.set(id, part.service);
        const responses = { ...(op.responses as Record<string, JsonObject>) };
        for (const [status, response] of Object.entries(FRONT_DOOR_RESPONSES)) responses[status] ??= response;
        (paths[path] ??= {})[method] = { ...op, responses: sortedByStatus(responses) };
      }
    }
    if (!any) continue;
    used.push(part);
    for (const [id, schema] of Object.entries(part.document.components?.schemas ?? {}))
      schemas.add(id, schema, `Public API (service "${part.service}")`);
  }
  const version = used.map((p) => `${p.service} ${p.document.info.version}`).join(', ') || '0';
  return finish(
    {
      title: options.title,
      version,
      description:
        options.description ??
        `The operations behind the front door (the local gateway, the ALB), from: ${used.map((p) => p.service).join(', ')}.`,
    },
    paths,
    schemas.schemas,
  );
}

function sortedByStatus(responses: Record<string, JsonObject>): Record<string, JsonObject> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

function finish(
  info: OpenApiDocument['info'],
  paths: Record<string, Record<string, JsonObject>>,
  schemas: Record<string, JsonObject>,
): OpenApiDocument {
  const tags = new Set<string>();
  for (const item of Object.values(paths))
    for (const op of Object.values(item))
      for (const tag of (op.tags as string[] | undefined) ?? []) tags.add(tag);
  const sortedPaths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  const sortedSchemas = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: OPENAPI_VERSION,
    info,
    tags: [...tags].sort().map((name) => ({ name })),
    paths: sortedPaths,
    ...(Object.keys(sortedSchemas).length > 0 ? { components: { schemas: sortedSchemas } } : {}),
  };
}
