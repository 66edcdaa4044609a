/**
 * @flotilla/model: the one typed model of a system. Services and topics are declared once; manifests,
 * runtime wiring, the local stack and the diagram are derived from it.
 */
export * from './types.js';
export * from './environment.js';
export * from './names.js';
export { defineService, defineTopic, defineSystem, isSystem } from './define.js';
export { ModelError, validateSystem, prefixesOverlap, type ModelProblem } from './validate.js';
export { envFor, literalEnv, portOf, type EnvValue, type ServiceEnv } from './env-for.js';
export {
  messagingResources,
  usesMessaging,
  EVENT_TYPE_ATTRIBUTE,
  type MessagingResources,
  type QueueResource,
  type TopicResource,
} from './messaging.js';
export { systemMermaid, systemMarkdown } from './graph.js';
export {
  retryPolicy,
  retryDelaySeconds,
  retryDelayBoundSeconds,
  RETRY_BACKOFF,
  SPARE_RECEIVES,
  POISON_RECEIVE_COUNT,
  MAX_RETRY_WINDOW_MINUTES,
  MAX_VISIBILITY_SECONDS,
  SUBSCRIPTION_DEFAULTS,
  type RetryBackoff,
  type RetryPolicy,
} from './subscription.js';
