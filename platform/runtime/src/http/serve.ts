/**
 * Serving a declared API: each route's request validated with `validate()`, its handler called with the parsed
 * parts, and its reply written with the declared status, headers and media type. With response checks on
 * (development and test), a reply that does not match its declaration, or an error status the route does not
 * declare, is logged with the route and the mismatch and answered with a 500, so a test sees it.
 */
import { trace } from '@opentelemetry/api';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import {
  routeResponses,
  type Api,
  type NormalizedResponse,
  type Reply,
  type RouteInput,
  type RouteMap,
  type RouteSpec,
} from './contract.js';
import { sendProblem } from './errors.js';
import { HttpError, PROBLEM_TYPES, type FieldError } from './problem.js';
import { servedRoutesOf } from './served-routes.js';
import { fieldErrors, unknownFields, validate } from './validate.js';

/**
 * A route's handler: gets the parsed request parts (and Express's request, for `req.log` and the like) and
 * returns one of the route's declared responses, or throws (an `HttpError` becomes its problem response).
 */
export type RouteHandler<R extends RouteSpec> = (
  input: RouteInput<R>,
  req: Request,
  res: Response,
) => Promise<Reply<R>> | Reply<R>;

/** One handler per route of an API, by route key: a route without one fails to compile. */
export type ApiHandlers<R extends RouteMap> = { readonly [K in keyof R]: RouteHandler<R[K]> };

/**
 * The handlers of a declared API. A conditional type, so that a call infers the API from its first argument
 * only and an inline handler's reply keeps its literal status (`{ status: 200 }`, not `number`).
 */
export type HandlersOf<A extends Api> = A extends Api<infer R> ? ApiHandlers<R> : never;

/** Options of {@link serveApi}. */
export interface ServeApiOptions {
  /**
   * Check every reply against its declaration (status, body, headers) and every thrown `HttpError`'s status
   * against the declared ones; a mismatch is logged (`route`, `status`, `mismatch`) and answered with 500.
   * It costs a schema parse per response, so production leaves it off.
   * @default true
   */
  readonly checkResponses?: boolean;
}

/** Logged (and answered with 500) when a reply breaks its route's declaration while responses are checked. */
export class ResponseContractError extends Error {
  override readonly name = 'ResponseContractError';
  constructor(
    readonly route: string,
    readonly status: number,
    readonly mismatch: readonly string[],
  ) {
    super(`The response of ${route} (status ${status}) breaks its declaration: ${mismatch.join('; ')}`);
  }
}

/**
 * Mounts every route of `api` on `router` with its handler. On a kit app's router the API is also recorded for
 * the app's `/openapi.json` and for 405 answers. Plain Express routes can sit beside them on the same router.
 */
export function serveApi<A extends Api>(
  router: Router,
  api: A,
  handlers: HandlersOf<A>,
  options: ServeApiOptions = {},
): void {
  const check = options.checkResponses ?? true;
  for (const [key, route] of Object.entries(api.routes)) {
    const handler = (handlers as Record<string, unknown>)[key] as RouteHandler<RouteSpec> | undefined;
    if (typeof handler !== 'function')
      throw new TypeError(
        `serveApi(${api.service}): no handler for route "${key}" (${route.method} ${route.path}).`,
      );
    const mount = router[route.method.toLowerCase() as Lowercase<RouteSpec['method']>].bind(router);
    mount(
      route.path,
      validate({
        params: route.params,
        query: route.query,
        headers: route.headers,
        body: route.body,
        unknownBodyFields: route.unknownBodyFields,
      }) as RequestHandler,
      routeHandler(route, handler, check),
    );
  }
  servedRoutesOf(router)?.add(api);
}

function routeHandler(route: RouteSpec, handler: RouteHandler<RouteSpec>, check: boolean): RequestHandler {
  const name = `${route.method} ${route.path}`;
  const responses = routeResponses(route);
  return async function declaredRoute(req, res) {
    const input = {
      params: req.params,
      query: req.query,
      headers: req.headers,
      body: req.body as unknown,
    } as unknown as RouteInput<RouteSpec>;
    let reply: Reply<RouteSpec>;
    try {
      reply = await handler(input, req, res);
    } catch (err) {
      if (check && err instanceof HttpError && !responses.has(err.status)) {
        return contractBroken(req, res, name, err.status, [
          `the handler threw HttpError ${err.status} (${err.message}), a status the route does not declare; ` +
            `add ${err.status} to its responses`,
        ]);
      }
      throw err;
    }
    const status = reply.status as number;
    const declared = responses.get(status);
    if (check) {
      const mismatch =
        declared === undefined
          ? [`status ${status} is not declared; declared: ${[...responses.keys()].join(', ')}`]
          : replyMismatch(declared, reply);
      if (mismatch.length > 0) return contractBroken(req, res, name, status, mismatch);
    }
    res.status(status);
    for (const [header, value] of Object.entries(reply.headers ?? {}))
      if (value !== undefined) res.setHeader(header, String(value));
    if (reply.body === undefined) {
      res.end();
      return;
    }
    res.type(declared?.contentType ?? 'application/json').send(JSON.stringify(reply.body));
  };
}

/** Logs the broken contract once (route, status, mismatch) and answers 500 instead of the reply. */
function contractBroken(
  req: Request,
  res: Response,
  route: string,
  status: number,
  mismatch: string[],
): void {
  const err = new ResponseContractError(route, status, mismatch);
  req.log.error({ route, status, mismatch }, err.message);
  const span = trace.getActiveSpan();
  if (span?.isRecording()) span.recordException(err);
  sendProblem(res, {
    type: PROBLEM_TYPES.internal,
    title: 'Internal Server Error',
    status: 500,
    detail:
      `The service's response broke its API declaration (a defect of the service). Quote request id ${req.id} ` +
      'when reporting it.',
    instance: req.path,
    requestId: req.id,
  });
}

/** What is wrong with a reply against its declared response: body and headers, every issue at once. */
function replyMismatch(
  declared: NormalizedResponse,
  reply: { body?: unknown; headers?: Readonly<Record<string, unknown>> },
): string[] {
  const out: string[] = [];
  if (declared.body === undefined) {
    if (reply.body !== undefined) out.push('the response declares no body, but the handler returned one');
  } else if (reply.body === undefined) {
    out.push('the response declares a body, but the handler returned none');
  } else {
    out.push(...describe(check(declared.body, reply.body, 'body')));
  }
  if (declared.headers !== undefined)
    out.push(...describe(check(declared.headers, reply.headers ?? {}, 'headers')));
  return out;
}

/** Issues of a value against a schema, with the fields the schema does not declare. */
function check(schema: z.ZodType, value: unknown, location: FieldError['location']): FieldError[] {
  const result = schema.safeParse(value);
  if (!result.success) return fieldErrors(location, result.error);
  return unknownFields(value, result.data, location).map((e) => ({
    ...e,
    message: 'a field the declaration does not have',
  }));
}

function describe(errors: readonly FieldError[]): string[] {
  return errors.map((e) => `${e.location}${e.path === '' ? '' : `.${e.path}`}: ${e.message}`);
}
