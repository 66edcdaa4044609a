/** The transactional outbox: events written in the business transaction, published by a relay. */
export {
  createOutbox,
  type Outbox,
  type OutboxEntryOptions,
  type OutboxEvent,
  type OutboxOptions,
} from './outbox.js';
export {
  listOutboxDeadLetters,
  OUTBOX_ADMIN_PATH,
  redriveOutboxDeadLetters,
  type OutboxDeadLetter,
  type OutboxDeadLetterReport,
  type OutboxRedriveOptions,
} from './dead-letters.js';
export { isMessageFault, outboxPublishVia } from './deliver.js';
export type { OutboxDestinationKind, OutboxMessage, OutboxPublish, OutboxPublishResult } from './message.js';
export {
  startOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRelayStats,
  type OutboxRetryOptions,
} from './relay.js';
