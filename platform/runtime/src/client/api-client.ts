/**
 * A peer client typed from the peer's declared API (`defineApi` in the peer's own package): one method per
 * route, taking the route's path parameters, query, headers and body as its schemas accept them and resolving
 * with one of its declared responses, by status, the body parsed by that status's schema. A route the API
 * does not declare, or a body it does not take, fails to compile; there is no generated file to keep in step.
 *
 * Every call goes through the peer's {@link PeerClient}, so it keeps the client's resilience: a timeout per
 * attempt, retries only for idempotent methods or calls with an `idempotencyKey`, the peer's circuit breaker
 * and bulkhead, trace context and request id, a span named after the route.
 */
import { errorMessage } from '../kit.js';
import {
  openApiPath,
  routeResponses,
  type Api,
  type CallInput,
  type CallResult,
  type NormalizedResponse,
  type RouteMap,
  type RouteSpec,
} from '../http/contract.js';
import { PeerClientError, PeerInvalidResponseError, PeerServerError } from './errors.js';
import type { CallOptions, PeerClient } from './peer-client.js';

/** Options of one typed call: those of {@link CallOptions} the declaration does not already settle. */
export type ApiCallOptions = Omit<CallOptions<unknown>, 'schema' | 'query' | 'route'>;

/** The arguments of a route's method: its request parts (optional when it has none), then options. */
type CallArgs<R extends RouteSpec> =
  Record<string, never> extends CallInput<R>
    ? [input?: CallInput<R>, options?: ApiCallOptions]
    : [input: CallInput<R>, options?: ApiCallOptions];

/**
 * A typed client of a peer's API: `inventory.reserve({ body }, { idempotencyKey })`. Declared error statuses
 * (a 409 the API lists) resolve like any other declared response; a status the API does not declare rejects
 * with the peer client's typed errors (`PeerClientError`, `PeerServerError`, ...), as do timeouts, an open
 * circuit and a body that breaks the declaration (`PeerInvalidResponseError`).
 */
export type ApiClient<R extends RouteMap> = {
  readonly [K in keyof R]: (...args: CallArgs<R[K]>) => Promise<CallResult<R[K]>>;
};

interface LooseInput {
  readonly params?: Readonly<Record<string, unknown>>;
  readonly query?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly body?: unknown;
}

/** The typed client of `api` over `client` (the peer's shared client, with its breaker and bulkhead). */
export function apiClient<R extends RouteMap>(client: PeerClient, api: Api<R>): ApiClient<R> {
  if (api.service !== client.peer)
    throw new TypeError(
      `The client of peer '${client.peer}' cannot call the API of service '${api.service}'; ` +
        `pass '${client.peer}'s own API (from its package).`,
    );
  const out: Record<string, (input?: LooseInput, options?: ApiCallOptions) => Promise<unknown>> = {};
  for (const [key, route] of Object.entries(api.routes)) out[key] = routeCall(client, route);
  return out as unknown as ApiClient<R>;
}

function routeCall(client: PeerClient, route: RouteSpec) {
  const declared = new Map([...routeResponses(route)].filter(([, r]) => !r.implied));
  const template = openApiPath(route.path);
  return async (input: LooseInput = {}, options: ApiCallOptions = {}): Promise<unknown> => {
    const path = route.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) =>
      encodeURIComponent(String(input.params?.[name] ?? '')),
    );
    const headers: Record<string, string> = { ...options.headers };
    for (const [name, value] of Object.entries(input.headers ?? {}))
      if (value !== undefined) headers[name] = String(value);
    const target = { peer: client.peer, method: route.method, path };
    try {
      const res = await client.request(route.method, path, input.body, {
        ...options,
        headers,
        query: input.query as CallOptions['query'],
        route: template,
      });
      return result(target, declared, res.status, res.body, res.headers);
    } catch (err) {
      // A declared error status is an answer of the API, not a failure of the call.
      if ((err instanceof PeerClientError || err instanceof PeerServerError) && declared.has(err.status))
        return result(target, declared, err.status, err.body, err.headers);
      throw err;
    }
  };
}

function result(
  target: { peer: string; method: string; path: string },
  declared: ReadonlyMap<number, NormalizedResponse>,
  status: number,
  body: unknown,
  headers: Headers,
): { status: number; body: unknown; headers: Headers } {
  const response = declared.get(status);
  if (response === undefined)
    throw new PeerInvalidResponseError(
      target,
      status,
      `the API declares no ${status} for this route (it declares ${[...declared.keys()].join(', ')})`,
    );
  if (response.body === undefined) return { status, body: undefined, headers };
  const parsed = response.body.safeParse(body);
  if (!parsed.success)
    throw new PeerInvalidResponseError(
      target,
      status,
      `it does not match the declared response: ${errorMessage(parsed.error)}`,
      parsed.error,
    );
  return { status, body: parsed.data, headers };
}
