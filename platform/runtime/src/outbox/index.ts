/** The transactional outbox: events written in the business transaction, published by a relay. */
export {
  createOutbox,
  type Outbox,
  type OutboxEntryOptions,
  type OutboxEvent,
  type OutboxOptions,
} from './outbox.js';
export type { OutboxDestinationKind, OutboxMessage, OutboxPublish, OutboxPublishResult } from './message.js';
export {
  startOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRelayStats,
  type OutboxRetryOptions,
} from './relay.js';
