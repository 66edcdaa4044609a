/**
 * The orders process: the public ordering API, stock reserved synchronously in inventory, `order.placed`
 * through the outbox, the consumer of payment outcomes, and the worker that releases the reservations of
 * orders that were not stored.
 */
import {
  createService,
  isEntryPoint,
  useClients,
  useConsumer,
  useDatabase,
  useOutbox,
  usePublisher,
  type ServiceSpec,
} from '@flotilla/runtime';
import { orderEvents, paymentEvents } from '@shop/contracts';
import { api as inventoryApi } from '@shop/inventory/api';
import { paymentOutcomeHandler } from './handlers.js';
import { startReleaser, type Releaser } from './open-reservations.js';
import { api } from './api.js';
import { ordersHandlers } from './routes.js';
import { migrations, type OrdersTables } from './schema.js';

/** What a test may change; the process itself runs with the defaults. */
export type MainOptions = Pick<ServiceSpec, 'env' | 'manageProcess' | 'logDestination'>;

export async function main(options: MainOptions = {}) {
  const svc = createService({ name: 'orders', ...options });
  const database = await useDatabase<OrdersTables>(svc, { migrations });
  const publisher = usePublisher(svc, orderEvents);
  const outbox = useOutbox(svc, { database, publisher, schemas: orderEvents });
  // A reservation must answer quickly: the customer waits for it. Retries are safe (idempotent per order).
  const clients = useClients(svc, { peers: { inventory: { timeoutMs: 1500 } } });
  const inventory = clients.client('inventory', inventoryApi);
  svc.serve(api, ordersHandlers({ database, outbox, inventory, log: svc.log }));
  useConsumer(svc, 'payments', {
    schemas: paymentEvents,
    inbox: database,
    handler: paymentOutcomeHandler(outbox),
  });
  let releaser: Releaser | undefined;
  svc.lifecycle.onStart('reservation-releaser', () => {
    releaser = startReleaser({ database, inventory, log: svc.log.child({ module: 'reservation-releaser' }) });
  });
  // Registered after the database's stop phase, so it stops (its round in flight ends) before that closes.
  svc.lifecycle.onStop('reservation-releaser', () => releaser?.stop());
  const listening = await svc.start();
  return { svc, database, listening, releaser: () => releaser };
}

if (isEntryPoint(import.meta.url)) await main();
