/**
 * `useOutbox`: the transactional outbox of a service and its relay. Write events with
 * `outbox.publish(trx, topic, event)` inside `database.transaction()`; the relay publishes them through the
 * service's publisher after the commit. The relay starts in the `wiring` start hook (before consumers) and
 * stops in the `outbox-relay` stop phase: after consumers, whose handlers may still write outbox rows, and
 * before the database closes, so the batch in flight is marked sent. The service answers `make dlq` and
 * `make redrive` about its outbox dead letters under {@link OUTBOX_ADMIN_PATH}.
 */
import type { Request, Response } from 'express';
import type { Database } from '../database/index.js';
import { DestinationResolver } from '../messaging/destinations.js';
import type { EventSchemas } from '../messaging/envelope.js';
import type { Publisher } from '../messaging/publisher.js';
import { OUTBOX_ADMIN_PATH } from '../outbox/dead-letters.js';
import { outboxPublishVia } from '../outbox/deliver.js';
import { createOutbox, type Outbox, type OutboxOptions } from '../outbox/outbox.js';
import { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from '../outbox/relay.js';
import { onStartPhase, onStopPhase } from './phases.js';
import type { WiringOptions, WiringTarget } from './target.js';

/** Options of {@link useOutbox}. */
export interface UseOutboxOptions<DB, S extends EventSchemas>
  extends
    WiringOptions,
    Pick<OutboxOptions<DB, S>, 'maxMessageBytes'>,
    Pick<
      OutboxRelayOptions<DB>,
      'intervalMs' | 'batchSize' | 'retry' | 'publishTimeoutMs' | 'maxSenderFaults'
    > {
  /** The service database (from `useDatabase`); the outbox table lives next to the service's tables. */
  readonly database: Database<DB>;
  /** The service's publisher (from `usePublisher`): the relay delivers through its `deliver`. */
  readonly publisher: { deliver: Publisher<EventSchemas>['deliver'] };
  /** Schemas of the events written: validated in the producer's transaction, so a bad event fails there. */
  readonly schemas: S;
}

/** The outbox writer and its relay. */
export interface WiredOutbox<DB, S extends EventSchemas> extends Outbox<DB, S> {
  /** The relay; undefined until the service starts (`svc.start()`). */
  readonly relay: () => OutboxRelay | undefined;
}

/**
 * Creates the service's outbox writer and arranges for its relay to run while the service runs.
 * Destinations are the model's names (`'orders'` for a topic, `'payments/charges'` for a queue), checked
 * when a row is written (an undeclared one fails the producer's transaction) and resolved by the relay
 * from the environment.
 */
export function useOutbox<DB, S extends EventSchemas>(
  svc: WiringTarget,
  options: UseOutboxOptions<DB, S>,
): WiredOutbox<DB, S> {
  const env = options.env ?? svc.env;
  const { database, publisher } = options;
  const resolver = new DestinationResolver({ env });
  const resolve = (kind: 'topic' | 'queue', destination: string) =>
    kind === 'topic' ? resolver.topicArn(destination) : resolver.queueUrl(destination);
  const outbox = createOutbox<DB, S>({
    database,
    source: svc.config.service.name,
    schemas: options.schemas,
    maxMessageBytes: options.maxMessageBytes,
    checkDestination: (kind, destination) => void resolve(kind, destination),
  });

  const publish = outboxPublishVia(resolve, (messages) => publisher.deliver(messages));

  svc.router.get(`${OUTBOX_ADMIN_PATH}/dead-letters`, async (req: Request, res: Response) => {
    const limit = Number(req.query.limit ?? 10);
    res.json(await outbox.deadLetters(Number.isFinite(limit) ? limit : 10));
  });
  svc.router.post(`${OUTBOX_ADMIN_PATH}/redrive`, async (_req: Request, res: Response) => {
    const redriven = await outbox.redrive();
    svc.log.info({ redriven }, 'outbox dead letters re-driven');
    res.json({ redriven });
  });

  let relay: OutboxRelay | undefined;
  onStartPhase(svc, 'relays', () => {
    relay = startOutboxRelay({
      database,
      publish,
      log: svc.log.child({ module: 'outbox-relay' }),
      intervalMs: options.intervalMs,
      batchSize: options.batchSize,
      retry: options.retry,
      publishTimeoutMs: options.publishTimeoutMs,
      maxSenderFaults: options.maxSenderFaults,
    });
  });
  onStopPhase(svc, 'outbox-relay', () => relay?.stop());
  return { ...outbox, relay: () => relay };
}
