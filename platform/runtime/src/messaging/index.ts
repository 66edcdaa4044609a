/**
 * Messaging over SQS/SNS: the envelope, the publisher, the consumer and dead-letter tools.
 */
export * from './envelope.js';
export {
  NonRetryableError,
  DependencyUnavailableError,
  HandlerTimeoutError,
  EventValidationError,
  PublishError,
  type DeliveryFailure,
  type EventIssue,
} from './errors.js';
export { uuidv7 } from './ids.js';
export { failedDependency } from './dependency.js';
export { MAX_MESSAGE_ATTRIBUTES, traceHeaders, extractTraceContext } from './attributes.js';
export {
  deliver,
  MAX_BATCH_ENTRIES,
  type OutboundMessage,
  type DeliveryReport,
  type DeliveryRetryOptions,
  type DeliveryClients,
} from './delivery.js';
export { DestinationResolver, type DestinationMaps } from './destinations.js';
export {
  createPublisher,
  MESSAGING_TRACER,
  type Publisher,
  type PublisherOptions,
  type PublishOptions,
  type BatchEntry,
  type BatchResult,
} from './publisher.js';
export {
  createConsumer,
  type Consumer,
  type ConsumerOptions,
  type ConsumedEvent,
  type MessageContext,
  type MessageHandler,
} from './consumer.js';
export {
  listDeadLetters,
  redrive,
  type DeadLetterQueueReport,
  type DeadLetterSample,
  type ListDeadLettersOptions,
  type RedriveOptions,
  type RedriveResult,
} from './dead-letters.js';
