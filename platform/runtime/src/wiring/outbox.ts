/**
 * `useOutbox`: the transactional outbox of a service and its relay. Write events with
 * `outbox.publish(trx, topic, event)` inside `database.transaction()`; the relay publishes them through the
 * service's publisher after the commit. The relay starts in the `wiring` start hook (before consumers) and
 * stops in the `outbox-relay` stop phase: after consumers, whose handlers may still write outbox rows, and
 * before the database closes, so the batch in flight is marked sent.
 */
import type { Database } from '../database/index.js';
import { errorMessage } from '../kit.js';
import type { OutboundMessage } from '../messaging/delivery.js';
import { DestinationResolver } from '../messaging/destinations.js';
import type { EventSchemas } from '../messaging/envelope.js';
import type { Publisher } from '../messaging/publisher.js';
import type { OutboxPublish } from '../outbox/message.js';
import { createOutbox, type Outbox } from '../outbox/outbox.js';
import { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from '../outbox/relay.js';
import { onStartPhase, onStopPhase } from './phases.js';
import type { WiringOptions, WiringTarget } from './target.js';

/** Options of {@link useOutbox}. */
export interface UseOutboxOptions<DB, S extends EventSchemas>
  extends WiringOptions, Pick<OutboxRelayOptions<DB>, 'intervalMs' | 'batchSize' | 'retry' | 'keepSentMs'> {
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
 * Destinations are the model's names (`'orders'` for a topic, `'payments/charges'` for a queue), resolved
 * by the relay from the environment; a row whose destination cannot be resolved stays pending and is
 * retried with backoff, its reason logged.
 */
export function useOutbox<DB, S extends EventSchemas>(
  svc: WiringTarget,
  options: UseOutboxOptions<DB, S>,
): WiredOutbox<DB, S> {
  const env = options.env ?? svc.env;
  const { database, publisher } = options;
  const resolver = new DestinationResolver({ env });
  const outbox = createOutbox<DB, S>({ database, source: svc.config.service.name, schemas: options.schemas });

  const publish: OutboxPublish = async (messages) => {
    const outbound: OutboundMessage[] = [];
    const reasons: Record<string, string> = {};
    for (const m of messages) {
      try {
        const destination =
          m.kind === 'topic' ? resolver.topicArn(m.destination) : resolver.queueUrl(m.destination);
        outbound.push({
          kind: m.kind,
          destination,
          envelope: m.envelope,
          traceparent: m.traceparent,
          tracestate: m.tracestate,
          requestId: m.requestId,
        });
      } catch (error) {
        reasons[m.envelope.id] = errorMessage(error);
      }
    }
    const report = outbound.length > 0 ? await publisher.deliver(outbound) : { succeeded: [], failed: [] };
    for (const f of report.failed) reasons[f.id] = `${f.code}: ${f.message}`;
    return { failedIds: Object.keys(reasons), reasons };
  };

  let relay: OutboxRelay | undefined;
  onStartPhase(svc, 'relays', () => {
    relay = startOutboxRelay({
      database,
      publish,
      log: svc.log.child({ module: 'outbox-relay' }),
      intervalMs: options.intervalMs,
      batchSize: options.batchSize,
      retry: options.retry,
      keepSentMs: options.keepSentMs,
    });
  });
  onStopPhase(svc, 'outbox-relay', () => relay?.stop());
  return { ...outbox, relay: () => relay };
}
