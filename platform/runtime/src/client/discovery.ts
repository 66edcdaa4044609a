/**
 * How a peer's base URL is found. `static` and `dns` discovery both use the URL the model wrote into
 * `PEER_<NAME>_URL` (a local address, or the cluster DNS name of the peer's Kubernetes Service); `cloudmap`
 * asks AWS Cloud Map for instances and keeps that URL as its fallback.
 */
import { ENV, type Discovery } from '@flotilla/model';
import { DiscoveryConfigError } from './errors.js';

/** A discovery method, as `DISCOVERY_METHOD` names it. */
export type DiscoveryMethod = Discovery['method'];

const METHODS: readonly DiscoveryMethod[] = ['static', 'dns', 'cloudmap'];

/** Finds the base URL (`http://host:port`) of one instance of a peer, once per attempt. */
export interface PeerResolver {
  /**
   * @param peer the peer's service name
   * @param declaredUrl the peer's `PEER_<NAME>_URL`
   */
  resolve(peer: string, declaredUrl: string): Promise<string>;
}

/** Static and DNS discovery: the declared URL is the address (Kubernetes spreads DNS traffic over pods). */
export const declaredUrlResolver: PeerResolver = {
  resolve: (_peer, declaredUrl) => Promise.resolve(declaredUrl),
};

/** Reads and checks `DISCOVERY_METHOD`; unset means `static`. */
export function discoveryMethodFrom(env: Readonly<Record<string, string | undefined>>): DiscoveryMethod {
  const raw = env[ENV.discoveryMethod];
  if (raw === undefined || raw === '') return 'static';
  if ((METHODS as readonly string[]).includes(raw)) return raw as DiscoveryMethod;
  throw new DiscoveryConfigError(
    `${ENV.discoveryMethod}='${raw}' is not a discovery method: use one of ${METHODS.join(', ')} ` +
      `(envFor writes it from the environment's discovery setting).`,
  );
}

/** Checks a `PEER_<NAME>_URL` value and returns it without a trailing slash. */
export function checkPeerUrl(peer: string, variable: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DiscoveryConfigError(
      `${variable}='${value}' (address of peer '${peer}') is not a URL: expected e.g. http://${peer}:8080.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DiscoveryConfigError(
      `${variable}='${value}' (address of peer '${peer}') must be an http:// or https:// URL.`,
    );
  }
  return value.replace(/\/+$/, '');
}
