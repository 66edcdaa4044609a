import { STATUS_CODES } from 'node:http';
import { trace } from '@opentelemetry/api';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { HttpError, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, type Problem } from './problem.js';
import type { ServedRoutes } from './served-routes.js';

/** Adds the exception to the request's server span (the active span while its handlers run). */
function recordOnServerSpan(err: unknown): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.recordException(err instanceof Error ? err : String(err));
}

/** Writes a problem document. */
export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/**
 * The problem for a request no route matched: 405 with `Allow` when declared routes serve its path under other
 * methods (`served`), else 404.
 */
export function notFound(served?: ServedRoutes): RequestHandler {
  return function notFoundHandler(req, res) {
    const allowed = served?.allowedMethods(req.path) ?? [];
    if (allowed.length > 0) {
      res.setHeader('Allow', allowed.join(', '));
      sendProblem(res, {
        type: PROBLEM_TYPES.methodNotAllowed,
        title: 'Method Not Allowed',
        status: 405,
        detail: `${req.path} does not take ${req.method}; it takes ${allowed.join(', ')}.`,
        instance: req.path,
        requestId: req.id,
      });
      return;
    }
    sendProblem(res, {
      type: PROBLEM_TYPES.notFound,
      title: 'Not Found',
      status: 404,
      detail: `No route matches ${req.method} ${req.path}; check the path and method against the service's API.`,
      instance: req.path,
      requestId: req.id,
    });
  };
}

/** The body-parser error type of a body that is not the UTF-8 it claims to be (the kit's `verify` hook). */
export const INVALID_UTF8 = 'entity.utf8.invalid';

/**
 * An error marked as the client's by the http-errors convention that Express's own parts follow
 * (body-parser, raw-body, the router): a 4xx `status`, and `expose` when its message is meant for the client.
 */
interface ClientStatusError extends Error {
  readonly status: number;
  readonly expose?: boolean;
  /** body-parser's kind of failure, e.g. `entity.parse.failed`. */
  readonly type?: unknown;
  readonly limit?: number;
  readonly length?: number;
  readonly charset?: string;
  readonly encoding?: string;
}

function clientStatusOf(err: unknown): ClientStatusError | undefined {
  if (!(err instanceof Error)) return undefined;
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 499
    ? (err as ClientStatusError)
    : undefined;
}

/**
 * The problem for an error Express's machinery raised about the request itself, before or instead of a
 * handler: body-parser's (malformed JSON, too large, a charset or encoding it cannot read, a compressed
 * body that does not decompress), the router's (a path parameter whose percent-encoding is not UTF-8), and
 * any other http-errors error with a 4xx status and `expose`. Errors with a 4xx `status` that nothing marked
 * as the client's (say, an HTTP library's error for a call this service made) stay 500s: passing a
 * dependency's 404 on to the caller would blame the caller for the service's own failure.
 */
function requestProblem(err: unknown, req: Request): HttpError | undefined {
  const e = clientStatusOf(err);
  if (e === undefined) return undefined;
  switch (e.type) {
    case 'entity.parse.failed':
      return new HttpError(400, `The request body is not valid JSON: ${e.message}.`, {
        type: PROBLEM_TYPES.malformedJson,
      });
    case INVALID_UTF8:
      return new HttpError(400, 'The request body is not valid UTF-8; send JSON encoded as UTF-8.', {
        type: PROBLEM_TYPES.malformedJson,
      });
    case 'entity.too.large':
      return new HttpError(
        413,
        `The request body is ${e.length === undefined ? `more than ${e.limit} bytes` : `${e.length} bytes`}; ` +
          `the limit is ${e.limit} bytes. Send a smaller body.`,
        { type: PROBLEM_TYPES.tooLarge, extensions: { limit: e.limit } },
      );
    case 'charset.unsupported':
      return new HttpError(
        415,
        `Charset ${JSON.stringify(e.charset)} is not supported; send JSON as UTF-8.`,
        {
          type: PROBLEM_TYPES.unsupportedMediaType,
        },
      );
    case 'encoding.unsupported':
      return new HttpError(
        415,
        `Content-Encoding ${JSON.stringify(e.encoding)} is not supported; send identity, gzip, deflate or br.`,
        { type: PROBLEM_TYPES.unsupportedMediaType },
      );
  }
  if (e instanceof URIError && e.status === 400) {
    // The router's decodeURIComponent of a path parameter failed: '%zz', a truncated '%E0%A4%A', or the
    // encoding of a lone surrogate ('%ED%A0%80'), none of them UTF-8.
    return new HttpError(
      400,
      `The path ${JSON.stringify(req.path)} has a malformed percent-encoding: ${e.message}. ` +
        'Percent-encode each byte of the UTF-8 text, e.g. %C3%A9 for é.',
      { type: PROBLEM_TYPES.malformedRequest },
    );
  }
  if (e.expose !== true) return undefined;
  // The message, unless it is only the status phrase (http-errors' default when it had nothing better).
  const why = e.message === STATUS_CODES[e.status] ? '' : `: ${e.message}`;
  const encoding = req.headers['content-encoding'];
  const detail =
    e.type === undefined && encoding !== undefined
      ? `The request body does not decode as its Content-Encoding (${encoding}) says${why}. Send it ` +
        'compressed as declared, or uncompressed without Content-Encoding.'
      : `The request could not be read${why}.`;
  return new HttpError(e.status, detail, { type: PROBLEM_TYPES.malformedRequest });
}

/**
 * The last-resort error handler: known errors become their problem, anything else a 500 problem without
 * internals (the error and its stack go to the log, with the request id the caller can quote).
 */
export function errorHandler(): ErrorRequestHandler {
  return function problemErrorHandler(err: unknown, req, res, next) {
    const known = err instanceof HttpError ? err : requestProblem(err, req);
    // The app's request prototype defines req.log (the service logger with this request's id).
    const reqLog = req.log;
    if (known === undefined || known.status >= 500) recordOnServerSpan(err);
    if (known === undefined)
      reqLog.error({ err, method: req.method, path: req.path }, 'unhandled error in request handler');
    else if (known.status >= 500) reqLog.error({ err }, known.message);
    if (res.headersSent) {
      // Too late for a problem document: `next` cuts the broken response off.
      next(err);
      return;
    }
    if (known === undefined) {
      sendProblem(res, {
        type: PROBLEM_TYPES.internal,
        title: 'Internal Server Error',
        status: 500,
        detail: `The service failed to handle the request. Quote request id ${req.id} when reporting it.`,
        instance: req.path,
        requestId: req.id,
      });
      return;
    }
    if (known.retryAfter !== undefined) {
      res.setHeader(
        'Retry-After',
        known.retryAfter instanceof Date
          ? known.retryAfter.toUTCString()
          : String(Math.max(0, Math.ceil(known.retryAfter))),
      );
    }
    sendProblem(res, { ...known.toProblem(req.path), requestId: req.id });
  };
}
