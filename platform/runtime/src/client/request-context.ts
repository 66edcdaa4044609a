/**
 * The request being served, for code that runs on its behalf. The HTTP layer of the runtime runs each
 * incoming request inside `requestContext.run({ requestId }, handler)`; the service client reads the id
 * from here and forwards it as `x-request-id` on every call it makes, so one id follows a request across
 * services without the handler passing it along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What the service client needs to know about the request being served. */
export interface RequestContext {
  /** The incoming request's id (its `x-request-id`, or one the HTTP layer generated). */
  readonly requestId?: string;
}

export { REQUEST_ID_HEADER } from '../kit.js';

const storage = new AsyncLocalStorage<RequestContext>();

/** The hook between the HTTP layer (writer) and the service client (reader). */
export const requestContext = {
  /** Runs `fn` (and everything it awaits) with `ctx` as the current request context. */
  run<T>(ctx: RequestContext, fn: () => T): T {
    return storage.run(ctx, fn);
  },
  /** The current request context, if code runs inside {@link requestContext.run}. */
  get(): RequestContext | undefined {
    return storage.getStore();
  },
  /** The current request's id, if any. The default `requestId` source of `createServiceClients`. */
  requestId(): string | undefined {
    return storage.getStore()?.requestId;
  },
};
