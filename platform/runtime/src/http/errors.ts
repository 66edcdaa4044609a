import { trace } from '@opentelemetry/api';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { HttpError, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, type Problem } from './problem.js';

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

/** 404 problem for any request no route matched. */
export function notFound(): RequestHandler {
  return function notFoundHandler(req, res) {
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

/** The shape body-parser gives its errors. */
interface BodyParserError extends Error {
  readonly type: string;
  readonly status: number;
  readonly limit?: number;
  readonly length?: number;
  readonly charset?: string;
  readonly encoding?: string;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return (
    err instanceof Error && typeof (err as Partial<BodyParserError>).type === 'string' && 'status' in err
  );
}

/** Maps body-parser's errors to problems a caller can act on. */
function bodyParserProblem(err: BodyParserError): HttpError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new HttpError(400, `The request body is not valid JSON: ${err.message}.`, {
        type: PROBLEM_TYPES.malformedJson,
      });
    case 'entity.too.large':
      return new HttpError(
        413,
        `The request body is ${err.length ?? 'more than'} bytes; the limit is ${err.limit} bytes. Send a smaller body.`,
        {
          type: PROBLEM_TYPES.tooLarge,
          extensions: { limit: err.limit },
        },
      );
    case 'charset.unsupported':
      return new HttpError(
        415,
        `Charset ${JSON.stringify(err.charset)} is not supported; send JSON as UTF-8.`,
        {
          type: PROBLEM_TYPES.unsupportedMediaType,
        },
      );
    case 'encoding.unsupported':
      return new HttpError(
        415,
        `Content-Encoding ${JSON.stringify(err.encoding)} is not supported; send identity, gzip or deflate.`,
        {
          type: PROBLEM_TYPES.unsupportedMediaType,
        },
      );
    case 'request.aborted':
    case 'request.size.invalid':
      return new HttpError(400, err.message);
    default:
      return undefined;
  }
}

/**
 * The last-resort error handler: known errors become their problem, anything else a 500 problem without
 * internals (the error and its stack go to the log, with the request id the caller can quote).
 */
export function errorHandler(): ErrorRequestHandler {
  return function problemErrorHandler(err: unknown, req, res, next) {
    const known =
      err instanceof HttpError ? err : isBodyParserError(err) ? bodyParserProblem(err) : undefined;
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
