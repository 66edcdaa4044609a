import { metrics, trace, type Attributes } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { traceFieldsOf } from '../log/trace-ids.js';

/** Route pattern of a handled request (`/orders/:id`), or undefined when no route matched. */
export function routeOf(req: Request): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}

/** Bucket boundaries (seconds) the HTTP semantic conventions advise for `http.server.request.duration`. */
const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * Per request: one log line (method, route pattern, status, duration, request id, trace ids) and one record
 * of the RED histogram `http.server.request.duration` (seconds, as the OpenTelemetry HTTP semantic
 * conventions define it) with `http.route`, `http.request.method`, `http.response.status_code` and, for 5xx,
 * `error.type`. Its count per attribute set is the request rate, the count where `error.type` is set the
 * error rate, and its buckets the duration: one record per request instead of a counter, an error counter
 * and a histogram (each record hashes its attributes).
 * @see https://opentelemetry.io/docs/specs/semconv/http/http-metrics/#metric-httpserverrequestduration
 */
export function observeRequests(log: Logger): RequestHandler {
  const duration = metrics.getMeter('@flotilla/runtime').createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });

  return function observeRequest(req: Request, res: Response, next: NextFunction): void {
    const started = performance.now();
    // Captured now: by the time the response closes, the active context may be another request's.
    const traceFields = traceFieldsOf(trace.getActiveSpan()?.spanContext());
    res.once('close', () => {
      const ms = Math.round((performance.now() - started) * 1000) / 1000;
      const route = routeOf(req);
      const status = res.writableFinished ? res.statusCode : 499; // 499: the client went away first
      const attributes: Attributes =
        route === undefined
          ? { 'http.request.method': req.method, 'http.response.status_code': status }
          : { 'http.request.method': req.method, 'http.response.status_code': status, 'http.route': route };
      if (status >= 500) attributes['error.type'] = String(status);
      duration.record(ms / 1000, attributes);
      log.info(
        {
          request_id: req.id,
          ...traceFields,
          method: req.method,
          route: route ?? null,
          path: req.path,
          status,
          duration_ms: ms,
        },
        'request',
      );
    });
    next();
  };
}

const REQUEST_LOG = Symbol('flotilla.requestLog');
type WithLog = Request & { [REQUEST_LOG]?: Logger };

/**
 * Defines `req.log` (the service logger with `request_id` bound) on an app's request prototype. The child
 * logger is made on first use, so requests that log nothing themselves pay nothing for it.
 */
export function defineRequestLog(requestPrototype: object, log: Logger): void {
  Object.defineProperty(requestPrototype, 'log', {
    configurable: true,
    get(this: WithLog): Logger {
      return (this[REQUEST_LOG] ??= log.child({ request_id: this.id }));
    },
    set(this: WithLog, value: Logger) {
      this[REQUEST_LOG] = value;
    },
  });
}
