import { createRequire } from 'node:module';
import type { Express, Request, RequestHandler, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { InFlightRequests } from '../lifecycle/in-flight.js';
import { errorHandler, notFound } from './errors.js';
import { jsonBodyParser } from './json-body.js';
import { defineRequestLog, observeRequests } from './observe.js';
import { requestId } from './request-id.js';
import { attachServedRoutes, type ServedRoutes } from './served-routes.js';
import { refuseUnstorableText } from './storable-text.js';
import './types.js';

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions {
  readonly log: Logger;
  /**
   * Largest JSON body accepted; larger ones get 413. A byte count or a string such as `'1mb'`.
   * @default '100kb'
   */
  readonly bodyLimit?: number | string;
  /** Mounted before the request is observed (health endpoints: no span, log line or metric). */
  readonly unobserved?: readonly RequestHandler[];
  /** Told when each observed request starts and ends (the graceful shutdown waits for them). @default - none */
  readonly inFlight?: InFlightRequests;
}

/** The Express app of a service and the router its routes go on. */
export interface HttpApp {
  readonly app: Express;
  /** Add routes here; unknown paths fall through to the 404 problem and errors to the problem handler. */
  readonly router: Router;
  /** The declared APIs served on `router` (`serveApi`): they answer 405 for their paths' other methods. */
  readonly served: ServedRoutes;
}

/**
 * An Express 5 app with request ids, a server span, a log line and RED metrics per request, JSON body
 * parsing with a size limit, a 404 problem for unknown routes and a last-resort handler answering
 * problem+json.
 */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const express = loadExpress();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // app.request is this app's own request prototype (not Express's global one).
  defineRequestLog(app.request, options.log);
  const kit = inOneLayer([
    requestId(),
    ...(options.unobserved ?? []),
    observeRequests({ log: options.log, inFlight: options.inFlight }),
    jsonBodyParser({ limit: options.bodyLimit ?? '100kb', json: express.json }),
    refuseUnstorableText,
  ]);
  // Routes go on the app's own router, not a nested one: a nested router is a second dispatch per request.
  const served = attachServedRoutes(app.router);
  runAroundRouter(app, kit, answerProblems(served));
  return { app, router: app.router, served };
}

/** What the router leaves: no route answered (`err` unset) or a handler failed. */
type FinalHandler = (err: unknown, req: Request, res: Response) => void;
type Done = (err?: unknown) => void;
/** `handle` is how Express dispatches (what `app(req, res)` calls); the typings leave it out. */
type Dispatcher = { handle(req: Request, res: Response, done?: Done): void };

/**
 * Puts the kit's per-request work in front of the app's router and `final` behind it, both outside
 * Express's layer stack:
 * - in front, by wrapping the router's dispatch: the kit runs once Express has set up the request (its
 *   prototypes, so `res.json` works) and before the first route is matched, without a layer of its own
 *   (each layer is a full pass of Express's `next`, and the kit's work runs on every request);
 * - behind, in place of Express's `finalhandler` (HTML pages), so routes added to the router at any
 *   time still come before it.
 */
function runAroundRouter(app: Express, kit: RequestHandler, final: FinalHandler): void {
  const router = app.router as unknown as Dispatcher;
  const route = router.handle.bind(router);
  router.handle = (req, res, done?: Done) =>
    void kit(req, res, (err?: unknown) =>
      err === undefined || err === null ? route(req, res, done) : done?.(err),
    );
  const dispatcher = app as unknown as Dispatcher;
  const handle = dispatcher.handle.bind(app);
  dispatcher.handle = (req, res, done?: Done) =>
    handle(req, res, done ?? ((err?: unknown) => final(err, req, res)));
}

/** The 404 (or 405) problem when no route answered, the problem handler when a handler failed. */
function answerProblems(served: ServedRoutes): FinalHandler {
  const answerNotFound = notFound(served);
  const answerError = errorHandler();
  return (err, req, res) => {
    // 'route' and 'router' are Express's "skip the rest" signals, not errors.
    if (err === undefined || err === null || err === 'route' || err === 'router')
      return answerNotFound(req, res, noop);
    // Headers already sent: too late for a problem document, and the response is broken.
    answerError(err, req, res, () => req.socket.destroy());
  };
}

function noop(): void {}

/**
 * Express is loaded on first use through `require`, not a static import: createService starts telemetry
 * first, so the require hook of the (opt-in) express instrumentation sees the load even without the preload.
 */
function loadExpress(): typeof import('express') {
  return createRequire(import.meta.url)('express') as typeof import('express');
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
