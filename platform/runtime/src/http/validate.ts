import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { HttpError, PROBLEM_TYPES, ValidationError, type FieldError } from './problem.js';

/** JSON media types the kit parses (`application/json` and `+json` suffixes such as `application/merge-patch+json`). */
export const JSON_TYPES = ['application/json', 'application/*+json'];

const IS_JSON = Symbol('flotilla.isJson');
type WithJsonMark = Request & { [IS_JSON]?: boolean };

/**
 * Whether the request's `Content-Type` is one of {@link JSON_TYPES}. Asked twice of a request with a body
 * (by the body parser, then by `validate`), answered once: a media type match parses the header each time.
 */
export function isJsonRequest(req: Request): boolean {
  const marked = req as WithJsonMark;
  return (marked[IS_JSON] ??= Boolean(req.is(JSON_TYPES)));
}

/** Records that the request's `Content-Type` is JSON, for a reader that checked it itself. */
export function markJsonRequest(req: Request): void {
  (req as WithJsonMark)[IS_JSON] = true;
}

/** Schemas for the parts of a request; each given part is parsed and replaced by the parsed value. */
export interface RequestSchemas<
  B extends z.ZodType,
  P extends z.ZodType,
  Q extends z.ZodType,
  H extends z.ZodType = z.ZodType<Record<string, unknown>>,
> {
  /** Body schema. Giving one makes the route require a JSON body (415 otherwise). */
  readonly body?: B;
  /** Path parameters schema, e.g. `z.object({ id: z.uuid() })`. */
  readonly params?: P;
  /** Query string schema; values arrive as strings, so use `z.coerce` for numbers. */
  readonly query?: Q;
  /**
   * Request headers schema, with lower-case names (`z.object({ 'idempotency-key': z.string().optional() })`).
   * Headers it does not name are left alone; the parsed values replace the named ones in `req.headers`.
   */
  readonly headers?: H;
  /**
   * What happens to body fields the body schema does not declare (at any depth). `'reject'` answers 400
   * naming each one, so a client learns that it sent what the service ignores (a `status` or a price only
   * the server decides, a misspelt optional field, `__proto__`). `'strip'` drops them silently (zod's own
   * behaviour), for a route that must accept lenient clients. A part of the schema that keeps unknown keys
   * itself (`z.looseObject`, `.catchall()`, `z.record`) keeps them under either setting. A schema whose
   * `transform` renames or drops keys of its input reports those keys as unknown: use `'strip'` there.
   * @default 'reject'
   */
  readonly unknownBodyFields?: 'reject' | 'strip';
}

type Out<T> = T extends z.ZodType ? z.output<T> : never;

/**
 * Middleware validating a request with zod. Every invalid field of every part is reported at once in a
 * 400 problem (`errors: [{ location, path, message }]`); a body that is present but not JSON gets 415; a
 * body field the schema does not declare is a 400 too (see `unknownBodyFields`).
 *
 * @example router.post('/orders', validate({ body: PlaceOrder }), (req, res) => { req.body.items ... })
 */
export function validate<
  B extends z.ZodType = z.ZodType<unknown>,
  P extends z.ZodType = z.ZodType<Record<string, string>>,
  Q extends z.ZodType = z.ZodType<Record<string, unknown>>,
  H extends z.ZodType = z.ZodType<Record<string, unknown>>,
>(schemas: RequestSchemas<B, P, Q, H>): RequestHandler<Out<P>, unknown, Out<B>, Out<Q>> {
  return function validateRequest(req: Request, _res: Response, next: NextFunction): void {
    if (schemas.body !== undefined) assertJsonBody(req);
    const errors: FieldError[] = [];
    const parsed: { body?: unknown; params?: unknown; query?: unknown; headers?: unknown } = {};
    for (const location of ['params', 'query', 'headers', 'body'] as const) {
      const schema = schemas[location];
      if (schema === undefined) continue;
      const input: unknown = req[location];
      const result = schema.safeParse(input);
      if (!result.success) {
        errors.push(...fieldErrors(location, result.error));
        continue;
      }
      if (location === 'body' && schemas.unknownBodyFields !== 'strip')
        errors.push(...unknownFields(input, result.data, 'body'));
      parsed[location] = result.data;
    }
    if (errors.length > 0) throw new ValidationError(errors);
    if ('body' in parsed) req.body = parsed.body;
    if ('params' in parsed) req.params = parsed.params as Request['params'];
    // Express 5 computes req.query in a getter; shadow it with the parsed value for this request.
    if ('query' in parsed) Object.defineProperty(req, 'query', { value: parsed.query, configurable: true });
    if ('headers' in parsed) Object.assign(req.headers, parsed.headers);
    next();
  } as unknown as RequestHandler<Out<P>, unknown, Out<B>, Out<Q>>;
}

function assertJsonBody(req: Request): void {
  if (!hasNonEmptyBody(req) || isJsonRequest(req)) return;
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

/** Listed at most, of the unknown fields of one body: a hostile body may hold thousands. */
const MAX_UNKNOWN_REPORTED = 20;

/**
 * The fields the schema dropped: keys of an input object missing from the object the schema made of it.
 * Zod objects strip undeclared keys, so comparing the input with the output finds them whatever the schema's
 * shape (unions, pipes, nested arrays), with no second walk over the schema. Where the output is the input
 * itself (`z.unknown()`, `z.any()`) nothing was dropped. Iterative, and only as deep as the output goes.
 */
export function unknownFields(
  input: unknown,
  output: unknown,
  location: FieldError['location'],
): FieldError[] {
  const found: FieldError[] = [];
  const stack: [unknown, unknown, PropertyKey[]][] = [[input, output, []]];
  while (stack.length > 0 && found.length < MAX_UNKNOWN_REPORTED) {
    const [i, o, path] = stack.pop() as [unknown, unknown, PropertyKey[]];
    if (i === o) continue;
    if (Array.isArray(i) && Array.isArray(o)) {
      // A transform that filtered the array breaks the index correspondence: nothing to compare.
      if (i.length === o.length)
        for (let n = i.length - 1; n >= 0; n--) stack.push([i[n], o[n], [...path, n]]);
    } else if (isPlainObject(i) && isPlainObject(o)) {
      const keys = Object.keys(i);
      for (let k = keys.length - 1; k >= 0; k--) {
        const key = keys[k] as string;
        // Object.hasOwn: a JSON body's own "__proto__" or "constructor" is unknown, not the prototype's.
        if (!Object.hasOwn(o, key))
          found.push({
            location,
            path: formatPath([...path, key]),
            message: 'unknown field: this API does not take it; remove it',
          });
        else stack.push([i[key], o[key], [...path, key]]);
      }
    }
  }
  return found;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function fieldErrors(location: FieldError['location'], error: z.ZodError): FieldError[] {
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
