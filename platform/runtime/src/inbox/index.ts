/** The idempotent consumer: processed event ids recorded in the handler's own transaction. */
export { createInbox, type Inbox, type InboxEvent, type InboxOptions, type InboxOutcome } from './inbox.js';
