import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';

/**
 * An HTTP server for an Express app whose requests and responses are created with the app's own
 * prototypes (`app.request`, `app.response`) instead of Node's.
 *
 * Why: Express swaps the prototype of every request and response it handles (`Object.setPrototypeOf`). On
 * Node 20's V8 that swap leaves each object with a one-off shape, and every later property access on it
 * (Express's, the router's, the kit's, the handler's) goes through V8's slow lookup. Created with the app's
 * prototype already, the swap is a no-op. In the HTTP benchmark on Node 20, bare Express 5 took ~105 µs of
 * CPU a request and ~32 µs with this; Node 24 does not pay the cost either way. Nothing else changes: the
 * objects are the same classes, built by Node's own constructors.
 */
export function createHttpServer(app: Express): Server {
  return createServer(
    {
      IncomingMessage: bornWith(IncomingMessage, app.request),
      ServerResponse: bornWith(ServerResponse, app.response) as typeof ServerResponse,
    },
    app,
  );
}

/**
 * A constructor that builds what `base` builds with `prototype` (which must inherit from base's) as its
 * prototype. `new` allocates the object from this constructor's own shape and `base` initialises it, which
 * V8 keeps on its fast path (Reflect.construct with another new.target does not). Node's IncomingMessage
 * and ServerResponse are plain functions, so calling them on an existing object is how Node's own
 * subclasses of them are written.
 */
function bornWith<C extends abstract new (...args: never[]) => object>(base: C, prototype: object): C {
  if (!(prototype instanceof base))
    throw new TypeError(`${base.name}: the prototype given does not inherit from ${base.name}.prototype`);
  const init = base as unknown as (this: object, ...args: unknown[]) => void;
  function Born(this: object, ...args: unknown[]): void {
    init.apply(this, args);
  }
  Born.prototype = prototype;
  return Born as unknown as C;
}
