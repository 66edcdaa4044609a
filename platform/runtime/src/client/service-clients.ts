/**
 * The entry point of service-to-service calls: `createServiceClients` reads the discovery settings the model
 * wrote into the environment and hands out one {@link PeerClient} per declared peer.
 */
import { ENV, peerUrlVar } from '@flotilla/model';
import type { Lifecycle, Logger } from '../kit.js';
import { CloudMapResolver, type CloudMapOptions } from './cloudmap.js';
import {
  checkPeerUrl,
  declaredUrlResolver,
  discoveryMethodFrom,
  type DiscoveryMethod,
  type PeerResolver,
} from './discovery.js';
import { DiscoveryConfigError, PeerNotDeclaredError } from './errors.js';
import { resolvePeerOptions, type PeerOptions } from './options.js';
import type { Api, RouteMap } from '../http/contract.js';
import { apiClient, type ApiClient } from './api-client.js';
import { PeerClient } from './peer-client.js';
import { PeerPolicies } from './policies.js';
import { requestContext } from './request-context.js';

/** Options of {@link createServiceClients}. */
export interface ServiceClientsOptions {
  /**
   * The environment with `DISCOVERY_METHOD`, `PEER_<NAME>_URL` and `CLOUDMAP_NAMESPACE` (see `envFor`).
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Logger for breaker transitions, retries and discovery trouble. */
  readonly log: Logger;
  /** Settings for every peer (over the platform defaults, see `PEER_DEFAULTS`). */
  readonly defaults?: PeerOptions;
  /** Settings per peer name (over `defaults`). */
  readonly peers?: Readonly<Record<string, PeerOptions>>;
  /**
   * Where the `x-request-id` of outgoing calls comes from when a call does not pass one.
   * @default requestContext.requestId - the id of the request being served, set by the HTTP layer
   */
  readonly requestId?: () => string | undefined;
  /** Cloud Map settings, used when `DISCOVERY_METHOD=cloudmap`. */
  readonly cloudMap?: CloudMapOptions;
  /** When given, the clients release their resources on shutdown. */
  readonly lifecycle?: Lifecycle;
}

/** The service's clients, one per declared peer. */
export interface ServiceClients {
  /** The discovery method in use. */
  readonly discovery: DiscoveryMethod;
  /**
   * The client of peer `peer` (the same instance on every call, so breaker and bulkhead are shared).
   * @throws PeerNotDeclaredError when the service did not declare the peer in `calls`
   */
  client(peer: string): PeerClient;
  /**
   * The client of peer `peer` typed from its declared API (`api`, from the peer's own package): one method per
   * route, on the same shared client (breaker, bulkhead), e.g. `clients.client('inventory', inventoryApi)`.
   * @throws PeerNotDeclaredError when the service did not declare the peer in `calls`
   * @throws TypeError when `api` is another service's
   */
  client<R extends RouteMap>(peer: string, api: Api<R>): ApiClient<R>;
  /** Releases resources (the Cloud Map client). */
  close(): void;
}

/**
 * Creates the clients of a service's peers from its environment.
 *
 * @example
 * const clients = createServiceClients({ log });
 * const inventory = clients.client('inventory');
 * const { body } = await inventory.get<Stock>('/stock/42');
 */
export function createServiceClients(options: ServiceClientsOptions): ServiceClients {
  const env = options.env ?? process.env;
  const method = discoveryMethodFrom(env);
  const service = env[ENV.serviceName];
  let resolver: PeerResolver = declaredUrlResolver;
  let cloudMap: CloudMapResolver | undefined;
  if (method === 'cloudmap') {
    const namespace = env[ENV.cloudMapNamespace];
    if (!namespace) {
      throw new DiscoveryConfigError(
        `${ENV.discoveryMethod}=cloudmap needs ${ENV.cloudMapNamespace}, the Cloud Map namespace name ` +
          `(e.g. shop.internal); envFor writes it from the environment's discovery.namespace.`,
      );
    }
    cloudMap = new CloudMapResolver(namespace, options.log, options.cloudMap);
    resolver = cloudMap;
  }
  for (const peer of Object.keys(options.peers ?? {})) declaredUrl(peer);

  const clients = new Map<string, PeerClient>();
  const requestId = options.requestId ?? requestContext.requestId;

  function declaredUrl(peer: string): string {
    const variable = peerUrlVar(peer);
    const value = env[variable];
    if (!value) throw new PeerNotDeclaredError(peer, variable, service);
    return checkPeerUrl(peer, variable, value);
  }

  const close = (): void => cloudMap?.close();
  options.lifecycle?.onStop('service clients', close);

  return {
    discovery: method,
    close,
    client<R extends RouteMap>(peer: string, api?: Api<R>): PeerClient & ApiClient<R> {
      const c = shared(peer);
      return (api === undefined ? c : apiClient(c, api)) as PeerClient & ApiClient<R>;
    },
  };

  function shared(peer: string): PeerClient {
    let c = clients.get(peer);
    if (!c) {
      const url = declaredUrl(peer);
      const peerOptions = resolvePeerOptions(peer, options.defaults, options.peers?.[peer]);
      c = new PeerClient({
        peer,
        declaredUrl: url,
        resolver,
        options: peerOptions,
        policies: new PeerPolicies(peer, peerOptions, options.log),
        requestId,
      });
      clients.set(peer, c);
    }
    return c;
  }
}
