/**
 * Wiring: turns a service from `createService` and the variables `envFor` wrote into ready modules, so a
 * service's main.ts names no variable by hand:
 *
 * ```ts
 * const svc = createService({ name: 'orders' });
 * const database = await useDatabase<Tables>(svc, { migrations });
 * const publisher = usePublisher(svc, orderEvents);
 * const outbox = useOutbox(svc, { database, publisher, schemas: orderEvents });
 * const clients = useClients(svc);
 * useConsumer(svc, 'payments', { schemas: paymentEvents, inbox: database, handler });
 * await svc.start();
 * ```
 *
 * Start order (start hook `wiring`, before listening): outbox relays, then consumers.
 * Stop order, whatever the order of the calls above: consumers -> outbox relay -> AWS clients -> database
 * -> telemetry (see phases.ts).
 */
export { useDatabase, type UseDatabaseOptions } from './database.js';
export { useAwsClients, type AwsClients, type UseAwsClientsOptions } from './aws.js';
export {
  awsDeadlineConfig,
  withAwsDeadline,
  nameTimeouts,
  AwsDeadlineError,
  type AwsDeadlineOptions,
  type AwsDeadlineClientConfig,
} from './aws-deadline.js';
export { usePublisher, type UsePublisherOptions } from './publisher.js';
export { useOutbox, type UseOutboxOptions, type WiredOutbox } from './outbox.js';
export {
  useConsumer,
  type ConsumerTuning,
  type InboxConsumerOptions,
  type InboxMessageContext,
  type PlainConsumerOptions,
} from './consumer.js';
export { useClients, type UseClientsOptions } from './clients.js';
export { isEntryPoint } from './entry.js';
export { STOP_PHASES, type StopPhase } from './phases.js';
export { WiringConfigError, type WiringEnv, type WiringOptions, type WiringTarget } from './target.js';
