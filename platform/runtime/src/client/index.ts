/**
 * Service-to-service calls: discovery (static, cluster DNS, AWS Cloud Map), resilience (timeout, retry,
 * circuit breaker, bulkhead, via cockatiel), trace context and request id on every call.
 */
export { createServiceClients, type ServiceClients, type ServiceClientsOptions } from './service-clients.js';
export { apiClient, type ApiClient, type ApiCallOptions } from './api-client.js';
export {
  PeerClient,
  IDEMPOTENT_METHODS,
  IDEMPOTENCY_KEY_HEADER,
  type CallOptions,
  type HttpMethod,
  type PeerClientConfig,
  type PeerResponse,
  type ResponseSchema,
} from './peer-client.js';
export {
  PEER_DEFAULTS,
  resolvePeerOptions,
  type BreakerOptions,
  type BulkheadOptions,
  type PeerOptions,
  type ResolvedPeerOptions,
  type PeerRetryOptions,
} from './options.js';
export { type CircuitStateName } from './policies.js';
export { requestContext, REQUEST_ID_HEADER, type RequestContext } from './request-context.js';
export { discoveryMethodFrom, type DiscoveryMethod, type PeerResolver } from './discovery.js';
export { CloudMapResolver, type CloudMapOptions } from './cloudmap.js';
export {
  PeerCallError,
  PeerResponseError,
  PeerTimeoutError,
  CircuitOpenError,
  BulkheadRejectedError,
  PeerClientError,
  PeerServerError,
  PeerUnavailableError,
  PeerInvalidResponseError,
  PeerNotDeclaredError,
  PeerNoInstancesError,
  DiscoveryConfigError,
  parseRetryAfter,
  type PeerCallTarget,
  type ProblemDetails,
} from './errors.js';
