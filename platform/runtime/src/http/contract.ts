/**
 * A service's HTTP API declared once: each route's method, path, request schemas (params, query, headers,
 * body) and responses per status, as zod schemas. The same declaration validates requests and (in development
 * and test) responses (`Service.serve`), becomes the service's OpenAPI 3.1 document (`openApiDocument`) and
 * types its peers' calls (`ServiceClients.client(peer, api)`), with no generated file in between.
 *
 * The declaration lives in a module of its own in the service's package (`src/api.ts`, exported as
 * `@shop/<service>/api`) that imports nothing but schemas, so a caller can import it without the service.
 */
import type { z } from 'zod';
import { Problem, ValidationProblem } from './problem-schema.js';

/** The methods a declared route may have. HEAD is answered for every GET route; OPTIONS by the router. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request part made of named fields: path parameters, query parameters or headers. */
export type FieldsSchema = z.ZodObject;

/**
 * An OpenAPI link: how a value of this response feeds a parameter of another operation of the same API, so
 * readers (and Schemathesis's stateful phase) can follow it, e.g. `{ operationId: 'getOrder', parameters:
 * { id: '$response.body#/id' } }`.
 * @see https://spec.openapis.org/oas/v3.1.0#link-object
 */
export interface ResponseLink {
  /** The route key (the operation id) the link leads to. */
  readonly operationId: string;
  /** Parameter name of the target operation -> runtime expression, e.g. `$response.body#/id`. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly description?: string;
}

/** One declared response in full. */
export interface ResponseObject {
  /** What the response means, for the reader. @default - the HTTP status phrase */
  readonly description?: string;
  /** The JSON body. @default - no body */
  readonly body?: z.ZodType;
  /** Media type of the body. @default 'application/json' ('application/problem+json' from {@link problem}) */
  readonly contentType?: string;
  /** Response headers the handler sets, as an object of lower-case header names. @default - none declared */
  readonly headers?: FieldsSchema;
  /** Operations this response leads to. @default - none */
  readonly links?: Readonly<Record<string, ResponseLink>>;
}

/**
 * A declared response: its body schema (JSON), a description alone (no body, e.g. 204), or in full. Problem
 * responses are declared with {@link problem}.
 */
export type ResponseSpec = z.ZodType | string | ResponseObject;

/** One route of an API. */
export interface RouteSpec {
  readonly method: RouteMethod;
  /**
   * Express path: literal segments and `:name` parameters, e.g. `/api/orders/:id`. Every parameter needs a
   * field of the same name in `params`.
   */
  readonly path: string;
  /** One line saying what the route does (OpenAPI `summary`). */
  readonly summary: string;
  /** More about it, Markdown. @default - none */
  readonly description?: string;
  /** Groups in the document. @default [service name] */
  readonly tags?: readonly string[];
  /** Path parameters, e.g. `z.object({ id: z.uuid() })`. */
  readonly params?: FieldsSchema;
  /** Query parameters; values arrive as strings, so use `z.coerce` for numbers. */
  readonly query?: FieldsSchema;
  /** Request headers the route reads, with lower-case names. Headers not named are not checked. */
  readonly headers?: FieldsSchema;
  /** The JSON request body. Declaring one makes the route require a JSON body (415 otherwise). */
  readonly body?: z.ZodType;
  /** What happens to body fields `body` does not declare; see `RequestSchemas.unknownBodyFields`. @default 'reject' */
  readonly unknownBodyFields?: 'reject' | 'strip';
  /**
   * Every response the route's handler gives, by status. The responses the kit itself gives are added
   * (see {@link impliedResponses}): 400 and 500 always, 404 when the path has parameters, 413 and 415 when the
   * route takes a body.
   */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** Marks the route deprecated in the document. @default false */
  readonly deprecated?: boolean;
}

/** The routes of an API, keyed by operation id (`getOrder`): the typed client's method names. */
export type RouteMap = Readonly<Record<string, RouteSpec>>;

/** What {@link defineApi} takes. */
export interface ApiSpec<R extends RouteMap> {
  /** The service serving it: its name in the system model. */
  readonly service: string;
  /** What the API is for (OpenAPI `info.description`). @default - the service name */
  readonly description?: string;
  /**
   * The version of the API document (OpenAPI `info.version`); change it when the contract changes.
   * @default '1.0.0'
   */
  readonly version?: string;
  readonly routes: R;
}

/** A declared API: what `defineApi` returns, checked. */
export interface Api<R extends RouteMap = RouteMap> {
  readonly service: string;
  readonly description: string;
  readonly version: string;
  readonly routes: R;
}

/** A response declared in full, as the kit uses it. */
export interface NormalizedResponse {
  readonly description: string;
  readonly body: z.ZodType | undefined;
  readonly contentType: string;
  readonly headers: FieldsSchema | undefined;
  readonly links: Readonly<Record<string, ResponseLink>>;
  /** Added by the kit (not in the route's declaration). */
  readonly implied: boolean;
}

export const JSON_CONTENT_TYPE = 'application/json';
export const PROBLEM_JSON = 'application/problem+json';

/**
 * A problem+json response (RFC 9457): `404: problem('No order with this id')`. `extensions` adds members to
 * the kit's problem schema, e.g. `problem('Reused key', z.object({ orderId: z.string() }))`.
 */
export function problem(description: string): ProblemResponse<typeof Problem>;
export function problem<E extends z.ZodRawShape>(
  description: string,
  extensions: z.ZodObject<E>,
): ProblemResponse<ReturnType<typeof Problem.extend<E>>>;
export function problem(description: string, extensions?: z.ZodObject): ProblemResponse<z.ZodType> {
  return {
    description,
    body: extensions === undefined ? Problem : Problem.extend(extensions.shape),
    contentType: PROBLEM_JSON,
  };
}

/** What {@link problem} declares: a problem+json body. */
export interface ProblemResponse<B extends z.ZodType> extends ResponseObject {
  readonly description: string;
  readonly body: B;
  readonly contentType: string;
}

/** A `:name` parameter, or a literal segment without the characters Express's path syntax reserves. */
const PATH_SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9._~@,;=$&'-]+)$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** The `:name` parameters of an Express path, in order. */
export function pathParameters(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => s.slice(1));
}

/** `/api/orders/:id` -> `/api/orders/{id}` (OpenAPI's path template). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** Thrown by {@link defineApi} for a declaration it cannot serve; lists every problem at once. */
export class ApiDeclarationError extends Error {
  override readonly name = 'ApiDeclarationError';
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`The API of service "${service}" is declared wrongly:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Declares a service's API. Checks what the types cannot: paths are literal segments and `:name` parameters,
 * each parameter has a field in `params` (and each field a parameter), header names are lower case, statuses
 * are 100-599, no two routes share a method and path, and links name routes of this API.
 *
 * @example
 * export const api = defineApi({
 *   service: 'orders',
 *   routes: {
 *     getOrder: {
 *       method: 'GET', path: '/api/orders/:id', summary: 'Read an order',
 *       params: z.object({ id: fields.id }),
 *       responses: { 200: Order, 404: problem('No order with this id') },
 *     },
 *   },
 * });
 */
export function defineApi<const R extends RouteMap>(spec: ApiSpec<R>): Api<R> {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [key, route] of Object.entries(spec.routes)) {
    const where = `route "${key}" (${route.method} ${route.path})`;
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key))
      problems.push(`${where}: its key is the operation id; use letters, digits and "_", e.g. "getOrder"`);
    const segments = route.path.split('/').slice(1);
    if (!route.path.startsWith('/') || segments.some((s) => !PATH_SEGMENT.test(s)))
      problems.push(
        `${where}: the path must start with "/" and have literal segments or ":name" parameters ` +
          '(no empty segment, trailing slash, wildcard or optional part), e.g. "/api/orders/:id"',
      );
    const inPath = pathParameters(route.path);
    const declared = Object.keys(route.params?.shape ?? {});
    for (const name of inPath)
      if (!declared.includes(name))
        problems.push(`${where}: path parameter ":${name}" has no field in params`);
    for (const name of declared)
      if (!inPath.includes(name)) problems.push(`${where}: params.${name} is not a parameter of the path`);
    for (const name of Object.keys(route.headers?.shape ?? {}))
      if (!HEADER_NAME.test(name))
        problems.push(`${where}: header "${name}" must be a lower-case header name`);
    const signature = `${route.method} ${openApiPath(route.path).replace(/\{[^}]+\}/g, '{}')}`;
    const other = seen.get(signature);
    if (other !== undefined) problems.push(`${where}: the same method and path as route "${other}"`);
    seen.set(signature, key);
    const statuses = Object.keys(route.responses);
    if (!statuses.some((s) => Number(s) < 400))
      problems.push(`${where}: declare at least one success response (a 1xx-3xx status)`);
    for (const status of statuses) {
      const n = Number(status);
      if (!Number.isInteger(n) || n < 100 || n > 599)
        problems.push(`${where}: response status ${status} is not an HTTP status (100-599)`);
      const response = route.responses[n];
      if (response !== undefined && typeof response === 'object' && 'links' in response)
        for (const [name, link] of Object.entries(response.links ?? {}))
          if (!(link.operationId in spec.routes))
            problems.push(
              `${where}: link "${name}" of response ${status} names no route ("${link.operationId}")`,
            );
    }
  }
  if (problems.length > 0) throw new ApiDeclarationError(spec.service, problems);
  return {
    service: spec.service,
    description: spec.description ?? spec.service,
    version: spec.version ?? '1.0.0',
    routes: spec.routes,
  };
}

function isZodSchema(spec: unknown): spec is z.ZodType {
  return typeof spec === 'object' && spec !== null && '_zod' in spec;
}

/** A declared response in full. */
export function normalizeResponse(status: number, spec: ResponseSpec): NormalizedResponse {
  if (typeof spec === 'string') return response(status, { description: spec }, false);
  if (isZodSchema(spec)) return response(status, { body: spec }, false);
  return response(status, spec, false);
}

function response(status: number, spec: ResponseObject, implied: boolean): NormalizedResponse {
  return {
    description: spec.description ?? STATUS_PHRASES[status] ?? `HTTP ${status}`,
    body: spec.body,
    contentType: spec.contentType ?? JSON_CONTENT_TYPE,
    headers: spec.headers,
    links: spec.links ?? {},
    implied,
  };
}

const STATUS_PHRASES: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * The responses the kit gives for a route besides its handler's, unless the route declares the status itself:
 * - 400: the request fails validation, holds text no database can store (NUL, a lone surrogate), a path that
 *   does not percent-decode, or a body that is not JSON (every route: the checks run before routing);
 * - 404: the path has parameters, and an empty one (`/api/orders/`) matches no route;
 * - 413 and 415: the route takes a body, which may be too large or not JSON;
 * - 500: the service failed (every route).
 */
export function impliedResponses(route: RouteSpec): Map<number, NormalizedResponse> {
  const out = new Map<number, NormalizedResponse>();
  const add = (status: number, spec: ResponseObject) => out.set(status, response(status, spec, true));
  add(400, {
    description:
      'The request is malformed or invalid: every invalid field is listed in `errors` (`location`, `path`, ' +
      '`message`). Text anywhere in a request (path, query, body values and keys) may hold neither a NUL ' +
      'character nor a UTF-16 surrogate without its pair: no database can store them.',
    body: ValidationProblem,
    contentType: PROBLEM_JSON,
  });
  if (pathParameters(route.path).length > 0)
    add(404, {
      description: 'No route matches the path (e.g. an empty path parameter).',
      body: Problem,
      contentType: PROBLEM_JSON,
    });
  if (route.body !== undefined) {
    add(413, {
      description: 'The request body is larger than the service accepts.',
      body: Problem,
      contentType: PROBLEM_JSON,
    });
    add(415, {
      description:
        'The request body is not JSON, or in a charset or content encoding the service cannot read.',
      body: Problem,
      contentType: PROBLEM_JSON,
    });
  }
  add(500, {
    description: 'The service failed; the problem names the request id to quote.',
    body: Problem,
    contentType: PROBLEM_JSON,
  });
  return out;
}

/** Every response of a route, declared and implied, by status (declared ones win). */
export function routeResponses(route: RouteSpec): Map<number, NormalizedResponse> {
  const out = impliedResponses(route);
  for (const [status, spec] of Object.entries(route.responses))
    out.set(Number(status), normalizeResponse(Number(status), spec));
  return new Map([...out].sort(([a], [b]) => a - b));
}

// ---- Types derived from a declaration (handlers and clients are typed with these) ----

type Out<S> = S extends z.ZodType ? z.output<S> : never;
type In<S> = S extends z.ZodType ? z.input<S> : never;

/** A response spec in its full form, at the type level. */
type Full<S> = S extends z.ZodType ? { body: S } : S extends string ? object : S;

/** The statuses a route declares. */
export type StatusOf<R extends RouteSpec> = keyof R['responses'] & number;

/**
 * The fields of a parameters part as a caller gives them: what the schema accepts, or for a field that
 * accepts anything (`z.coerce.number()`: parameters travel as text) what it makes of it.
 */
type Fields<S extends z.ZodType> = {
  [F in keyof In<S>]: unknown extends In<S>[F] ? (F extends keyof Out<S> ? Out<S>[F] : never) : In<S>[F];
};

/** A request part: required when its schema requires a field, optional when every field is. */
type Part<K extends string, S, Otherwise> = S extends z.ZodType
  ? Record<string, never> extends Fields<S>
    ? { readonly [P in K]?: Fields<S> }
    : { readonly [P in K]: Fields<S> }
  : { readonly [P in K]?: Otherwise };

/** The request parts a caller sends, as the route's schemas accept them (zod input types). */
export type CallInput<R extends RouteSpec> = Part<'params', R['params'], undefined> &
  Part<'query', R['query'], undefined> &
  Part<'headers', R['headers'], Readonly<Record<string, string>>> &
  (R['body'] extends z.ZodType ? { readonly body: In<R['body']> } : { readonly body?: undefined });

/** `T` with every array and object read-only: a handler may reply with read-only data of the right shape. */
type Immutable<T> = T extends readonly (infer U)[]
  ? readonly Immutable<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Immutable<T[K]> }
    : T;

/** One object type for an intersection, so TypeScript can match a union-typed `status` against a union. */
type Flat<T> = { [K in keyof T]: T[K] };

/** What a handler returns for one status: the status, the body its schema accepts, and declared headers. */
type ReplyFor<S extends number, F> = Flat<
  { readonly status: S } & (F extends { body: infer B extends z.ZodType }
    ? { readonly body: Immutable<z.input<B>> }
    : { readonly body?: undefined }) &
    (F extends { headers: infer H extends z.ZodType }
      ? { readonly headers: Immutable<z.input<H>> }
      : { readonly headers?: Readonly<Record<string, string>> })
>;

/** What a route's handler returns: one of its declared responses. */
export type Reply<R extends RouteSpec> = {
  [S in StatusOf<R>]: ReplyFor<S, Full<R['responses'][S]>>;
}[StatusOf<R>];

/** A response a typed client got for one status: the body as the schema parsed it. */
type ResultFor<S extends number, F> = {
  readonly status: S;
  readonly headers: Headers;
  readonly body: F extends { body: infer B extends z.ZodType } ? z.output<B> : undefined;
};

/** What a typed client's call resolves with: one of the route's declared responses, by status. */
export type CallResult<R extends RouteSpec> = {
  [S in StatusOf<R>]: ResultFor<S, Full<R['responses'][S]>>;
}[StatusOf<R>];

/** The parsed request parts a handler sees. */
export interface RouteInput<R extends RouteSpec> {
  readonly params: R['params'] extends z.ZodType ? Out<R['params']> : Record<string, string>;
  readonly query: R['query'] extends z.ZodType ? Out<R['query']> : Record<string, unknown>;
  readonly headers: R['headers'] extends z.ZodType ? Out<R['headers']> : Record<string, never>;
  readonly body: R['body'] extends z.ZodType ? Out<R['body']> : undefined;
}

/** Several APIs of one service as one (for its document); route keys must differ. */
export function mergeApis(apis: readonly Api[]): Api {
  const [first, ...rest] = apis;
  if (first === undefined) throw new Error('mergeApis: no API given');
  const routes: Record<string, RouteSpec> = { ...first.routes };
  for (const api of rest)
    for (const [key, route] of Object.entries(api.routes)) {
      if (key in routes)
        throw new ApiDeclarationError(api.service, [
          `route "${key}" is declared by two of its APIs; rename one`,
        ]);
      routes[key] = route;
    }
  return { ...first, routes };
}
