import { createRequire } from 'node:module';
import type { Express, Request, RequestHandler, Router } from 'express';
import type { Logger } from 'pino';
import { errorHandler, notFound } from './errors.js';
import { defineRequestLog, observeRequests } from './observe.js';
import { requestId } from './request-id.js';
import './types.js';
import { JSON_TYPES } from './validate.js';

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions {
  readonly log: Logger;
  /**
   * Largest JSON body accepted; larger ones get 413. A byte count or a string such as `'1mb'`.
   * @default '100kb'
   */
  readonly bodyLimit?: number | string;
  /** Mounted before logging and body parsing (health endpoints: neither logged nor counted). */
  readonly unobserved?: readonly RequestHandler[];
  /** Mounted after logging, before body parsing (e.g. the shutdown's in-flight tracker). */
  readonly observed?: readonly RequestHandler[];
}

/** The Express app of a service and the router its routes go on. */
export interface HttpApp {
  readonly app: Express;
  /** Add routes here; unknown paths fall through to the 404 problem and errors to the problem handler. */
  readonly router: Router;
}

/**
 * An Express 5 app with request ids, per-request log lines and RED metrics, JSON body parsing with a size
 * limit, a 404 problem for unknown routes and a last-resort handler answering problem+json.
 */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const express = loadExpress();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // app.request is this app's own request prototype (not Express's global one).
  defineRequestLog(app.request, options.log);
  const parseJson = express.json({ limit: options.bodyLimit ?? '100kb', type: JSON_TYPES, strict: true });
  const layer = inOneLayer([
    requestId(),
    ...(options.unobserved ?? []),
    observeRequests(options.log),
    ...(options.observed ?? []),
    // body-parser skips bodiless requests itself, but only after a call through its checks.
    (req, res, next) => (hasBody(req) ? parseJson(req, res, next) : next()),
  ]);
  // One Express layer for all of the kit's per-request work, body parsing included: each layer costs time in
  // Express and more in its instrumentation, which wraps every layer of every request.
  app.use(layer);
  const router = express.Router();
  app.use(router);
  app.use(notFound());
  app.use(errorHandler(options.log));
  return { app, router };
}

/**
 * Express is loaded on first use through `require`, not a static import: createService starts telemetry
 * first, so the require hook of the express instrumentation sees the load even without the preload.
 */
function loadExpress(): typeof import('express') {
  return createRequire(import.meta.url)('express') as typeof import('express');
}

/** Whether a request has a body (the test of type-is `hasBody`, which body-parser makes). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/**
 * Runs middleware in order as one middleware; a handler that answers ends the chain. A handler may call its
 * `next` later (the body parser does); only synchronous throws are caught here, as Express would.
 */
function inOneLayer(handlers: readonly RequestHandler[]): RequestHandler {
  return function flotillaKit(req, res, next) {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null) return next(err);
      const handler = handlers[i++];
      if (handler === undefined) return next();
      try {
        void handler(req, res, step);
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}
