/**
 * `useClients`: the service's clients of its declared peers (`calls` in service.ts), with discovery from
 * `DISCOVERY_METHOD` / `PEER_<NAME>_URL` and the id of the request being served forwarded on every call.
 */
import { createServiceClients, type ServiceClients, type ServiceClientsOptions } from '../client/index.js';
import { requestContext } from '../client/request-context.js';
import type { WiringOptions, WiringTarget } from './target.js';

/** Options of {@link useClients}. */
export interface UseClientsOptions
  extends WiringOptions, Pick<ServiceClientsOptions, 'defaults' | 'peers' | 'cloudMap'> {}

/**
 * Creates the peer clients and puts every request handled by `svc.router` into the `requestContext`, so a
 * call made while serving a request carries that request's `x-request-id`. Call it before adding routes:
 * routes added earlier run outside the context.
 * @throws PeerNotDeclaredError (from `client(name)`) for a peer not declared in `calls`
 */
export function useClients(svc: WiringTarget, options: UseClientsOptions = {}): ServiceClients {
  svc.router.use(function requestContextMiddleware(req, _res, next) {
    requestContext.run({ requestId: req.id }, next);
  });
  return createServiceClients({
    env: options.env ?? svc.env,
    log: svc.log,
    lifecycle: svc.lifecycle,
    defaults: options.defaults,
    peers: options.peers,
    cloudMap: options.cloudMap,
  });
}
