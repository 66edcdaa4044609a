/**
 * How the kit reads JSON request bodies: body-parser's `express.json` for every kind of body, and a direct
 * read for the one nearly every request is.
 *
 * Why two ways: body-parser answers every question a body can raise (compressed bodies, charsets, chunked
 * bodies, their errors) and asks each of them of every request: it parses the `Content-Type` header with its
 * parameters, matches the media type, looks up a decoder for the charset, sets up raw-body's listeners and
 * decodes through iconv-lite. For `Content-Type: application/json` with a `Content-Length` within the limit
 * and no `Content-Encoding` the answers are known from two header comparisons, and the body is the bytes
 * Node's parser delivers. Read here, the benchmark's validated POST costs 23 µs less CPU at 3000 req/s and
 * serves 18250 instead of 14394 req/s saturated (http/ab.ts against the previous commit, 2026-12-07), with
 * the same results: the same `req.body`, the same checks and the same errors, which the problem handler
 * turns into the same answers (test/core-http-json-body.test.ts sends each body both ways).
 */
import { isUtf8 } from 'node:buffer';
import { context } from '@opentelemetry/api';
import bytes from 'bytes';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { INVALID_UTF8 } from './errors.js';
import { markEscapeFree } from './storable-text.js';
import { isJsonRequest, markJsonRequest } from './validate.js';

/** Options of {@link jsonBodyParser}. */
export interface JsonBodyOptions {
  /** Largest body accepted, in bytes or as text such as `'100kb'` (as body-parser reads it). */
  readonly limit: number | string;
  /** body-parser's `express.json` (of the app's Express), for every body not read directly. */
  readonly json: typeof import('express').json;
}

/**
 * Parses a JSON request body into `req.body` (strict: an object or an array; an empty body is `{}`), after
 * checking that it is valid UTF-8 (a 400 otherwise, see {@link utf8Problem}); a bodiless request passes.
 * Calls `next` in the context it was called in, so the routes after it run inside the request's span.
 */
export function jsonBodyParser(options: JsonBodyOptions): RequestHandler {
  const limit = toByteCount(options.limit);
  const parseAny = options.json({
    limit,
    // The kit parses once Express has set the request up, so it is an Express request here.
    type: (req) => isJsonRequest(req as Request),
    strict: true,
    verify: checkUtf8,
  }) as RequestHandler;
  return function parseJsonBody(req: Request, res: Response, next: NextFunction): void {
    // body-parser skips bodiless requests itself, but only after a call through its checks.
    if (!mayHaveBody(req)) return next();
    const length = plainJsonLength(req, limit);
    // raw-body calls back in its caller's async context (AsyncResource), so routes run in the request's span.
    if (length === undefined) {
      void parseAny(req, res, next);
      return;
    }
    markJsonRequest(req);
    // Stream events run in the connection's context: the routes after this must run in the request's span.
    const active = context.active();
    readBody(req, length, (err, body) => {
      context.with(active, next, undefined, err ?? parseInto(req, body));
    });
  };
}

/**
 * Whether a request may carry a body for the parser: type-is's `hasBody` test, which body-parser makes too
 * (`content-length: 0` counts; the parser then gives `{}`). Not the question `validate` asks of a body
 * schema's request: whether there is a non-empty body whose type must be JSON.
 */
function mayHaveBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/**
 * The body's length when the request is the plain kind read directly: `Content-Type: application/json`
 * (with `charset=utf-8` at most), no `Content-Encoding`, and a `Content-Length` within the limit. Anything
 * else is body-parser's: compressed or chunked bodies, other charsets and JSON types, and a body over the
 * limit (its 413 names the length).
 */
function plainJsonLength(req: Request, limit: number): number | undefined {
  const { headers } = req;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) return;
  const type = headers['content-type'];
  if (type !== 'application/json' && type?.toLowerCase() !== 'application/json; charset=utf-8') return;
  const declared = headers['content-length'];
  // Node has checked the header: digits only, one value (a request with two different lengths is refused).
  const length = declared === undefined ? NaN : Number(declared);
  return length <= limit ? length : undefined;
}

type BodyRead = (err: Error | undefined, body: Buffer) => void;
const NO_BYTES = Buffer.alloc(0);

/**
 * Collects the body's bytes. Node's parser delivers exactly `Content-Length` bytes before `end`, or fails the
 * request (the client went away): then the error is raw-body's `request.aborted`, a 400 nobody will read.
 */
function readBody(req: Request, length: number, done: BodyRead): void {
  if (length === 0) return done(undefined, NO_BYTES);
  let first: Buffer | undefined;
  let parts: Buffer[] | undefined;
  const onData = (chunk: Buffer) => {
    if (first === undefined) first = chunk;
    else (parts ??= [first]).push(chunk);
  };
  const onEnd = () => {
    stop();
    done(undefined, parts === undefined ? (first ?? NO_BYTES) : Buffer.concat(parts, length));
  };
  const onAbort = () => {
    stop();
    done(requestError('request aborted', 'request.aborted'), NO_BYTES);
  };
  const stop = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onAbort);
    req.off('close', onAbort);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onAbort);
  req.on('close', onAbort);
}

/** U+FEFF in UTF-8: iconv-lite, body-parser's decoder, drops it at the start of a body, and so does the kit. */
const BYTE_ORDER_MARK = Buffer.from([0xef, 0xbb, 0xbf]);

/** Sets `req.body` from the bytes, or returns the error body-parser would have raised. */
function parseInto(req: Request, body: Buffer): Error | undefined {
  const invalid = utf8Problem(req, body);
  if (invalid !== undefined) return invalid;
  const start = body.subarray(0, 3).equals(BYTE_ORDER_MARK) ? 3 : 0;
  const text = body.toString('utf8', start);
  if (text.length === 0) {
    req.body = {};
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    // Strict, as express.json({ strict: true }): a body is an object or an array, never a bare value.
    if (value === null || typeof value !== 'object')
      return requestError(
        `a JSON body must be an object or an array, not ${value === null ? 'null' : typeof value}`,
        'entity.parse.failed',
      );
    req.body = value;
    return undefined;
  } catch (syntax) {
    return requestError((syntax as Error).message, 'entity.parse.failed');
  }
}

/** An error as body-parser raises them (http-errors' shape): the problem handler answers from its `type`. */
function requestError(message: string, type: string): Error {
  return Object.assign(new Error(message), { status: 400, statusCode: 400, expose: true, type });
}

/**
 * A UTF-8 body must be valid UTF-8: the decoder would otherwise replace invalid bytes with U+FFFD and the
 * service would store what the client never sent. RFC 8259 requires UTF-8 for JSON exchanged between systems.
 * A valid body is also told to the unstorable-text check, which can then often skip its walk.
 * @see https://www.rfc-editor.org/rfc/rfc8259#section-8.1
 */
function utf8Problem(req: Request, body: Buffer): Error | undefined {
  if (!isUtf8(body)) return requestError('the request body is not valid UTF-8', INVALID_UTF8);
  markEscapeFree(req, body);
  return undefined;
}

/** {@link utf8Problem} as body-parser's `verify` hook, on the raw, decompressed bytes of a UTF-8 body. */
function checkUtf8(req: Request, _res: Response, body: Buffer, encoding: string): void {
  if (encoding.toLowerCase().replace('-', '') !== 'utf8') return;
  // body-parser keeps the error's `status` and `type`, so the problem handler answers 400.
  const invalid = utf8Problem(req, body);
  if (invalid !== undefined) throw invalid;
}

function toByteCount(limit: number | string): number {
  const count = typeof limit === 'number' ? limit : bytes.parse(limit);
  if (count === null || !Number.isFinite(count) || count < 0)
    throw new Error(
      `bodyLimit ${JSON.stringify(limit)} is not a size: give a byte count or text such as '100kb'`,
    );
  return count;
}
