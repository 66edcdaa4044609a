import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { HttpError, PROBLEM_TYPES, ValidationError, type FieldError } from './problem.js';

/** JSON media types the kit parses (`application/json` and `+json` suffixes such as `application/merge-patch+json`). */
export const JSON_TYPES = ['application/json', 'application/*+json'];

/** Schemas for the parts of a request; each given part is parsed and replaced by the parsed value. */
export interface RequestSchemas<B extends z.ZodType, P extends z.ZodType, Q extends z.ZodType> {
  /** Body schema. Giving one makes the route require a JSON body (415 otherwise). */
  readonly body?: B;
  /** Path parameters schema, e.g. `z.object({ id: z.uuid() })`. */
  readonly params?: P;
  /** Query string schema; values arrive as strings, so use `z.coerce` for numbers. */
  readonly query?: Q;
}

type Out<T> = T extends z.ZodType ? z.output<T> : never;

/**
 * Middleware validating a request with zod. Every invalid field of every part is reported at once in a
 * 400 problem (`errors: [{ location, path, message }]`); a body that is present but not JSON gets 415.
 *
 * @example router.post('/orders', validate({ body: PlaceOrder }), (req, res) => { req.body.items ... })
 */
export function validate<
  B extends z.ZodType = z.ZodType<unknown>,
  P extends z.ZodType = z.ZodType<Record<string, string>>,
  Q extends z.ZodType = z.ZodType<Record<string, unknown>>,
>(schemas: RequestSchemas<B, P, Q>): RequestHandler<Out<P>, unknown, Out<B>, Out<Q>> {
  return function validateRequest(req: Request, _res: Response, next: NextFunction): void {
    if (schemas.body !== undefined) assertJsonBody(req);
    const errors: FieldError[] = [];
    const parsed: { body?: unknown; params?: unknown; query?: unknown } = {};
    for (const location of ['params', 'query', 'body'] as const) {
      const schema = schemas[location];
      if (schema === undefined) continue;
      const result = schema.safeParse(req[location]);
      if (result.success) parsed[location] = result.data;
      else errors.push(...fieldErrors(location, result.error));
    }
    if (errors.length > 0) throw new ValidationError(errors);
    if ('body' in parsed) req.body = parsed.body;
    if ('params' in parsed) req.params = parsed.params as Request['params'];
    // Express 5 computes req.query in a getter; shadow it with the parsed value for this request.
    if ('query' in parsed) Object.defineProperty(req, 'query', { value: parsed.query, configurable: true });
    next();
  } as unknown as RequestHandler<Out<P>, unknown, Out<B>, Out<Q>>;
}

function assertJsonBody(req: Request): void {
  if (!hasNonEmptyBody(req) || req.is(JSON_TYPES)) return;
  const type = req.headers['content-type'];
  throw new HttpError(
    415,
    `${req.method} ${req.path} accepts only JSON bodies; send Content-Type: application/json${type === undefined ? ' (none was sent)' : ` instead of ${JSON.stringify(type)}`}.`,
    {
      type: PROBLEM_TYPES.unsupportedMediaType,
      extensions: { accept: JSON_TYPES },
    },
  );
}

/** Whether a request carries content: an empty body (`content-length: 0`) needs no content type. */
function hasNonEmptyBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function fieldErrors(location: FieldError['location'], error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ location, path: formatPath(issue.path), message: issue.message }));
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
