import { metrics, trace, type Attributes } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { traceFieldsOf } from '../log/trace-ids.js';

/** Route pattern of a handled request (`/orders/:id`), or undefined when no route matched. */
export function routeOf(req: Request): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}

/**
 * Per request: one log line (method, route pattern, status, duration, request id, trace ids) and the RED
 * metrics `http.server.requests` (count), `http.server.errors` (count of 5xx) and `http.server.duration`
 * (histogram, ms), each with `http.route`, `http.request.method` and `http.response.status_code`.
 */
export function observeRequests(log: Logger): RequestHandler {
  const meter = metrics.getMeter('@flotilla/runtime');
  const requests = meter.createCounter('http.server.requests', {
    description: 'HTTP requests handled',
    unit: '{request}',
  });
  const errors = meter.createCounter('http.server.errors', {
    description: 'HTTP requests answered 5xx',
    unit: '{request}',
  });
  const duration = meter.createHistogram('http.server.duration', {
    description: 'Time to handle an HTTP request',
    unit: 'ms',
    advice: { explicitBucketBoundaries: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] },
  });

  return function observeRequest(req: Request, res: Response, next: NextFunction): void {
    const started = performance.now();
    // Captured now: by the time the response closes, the active context may be another request's.
    const traceFields = traceFieldsOf(trace.getActiveSpan()?.spanContext());
    res.once('close', () => {
      const ms = Math.round((performance.now() - started) * 1000) / 1000;
      const route = routeOf(req);
      const status = res.writableFinished ? res.statusCode : 499; // 499: the client went away first
      const attributes: Attributes = {
        'http.request.method': req.method,
        'http.response.status_code': status,
      };
      if (route !== undefined) attributes['http.route'] = route;
      requests.add(1, attributes);
      if (status >= 500) errors.add(1, attributes);
      duration.record(ms, attributes);
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
