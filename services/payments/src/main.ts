/** The payments process: charges each placed order exactly once and publishes the outcome. */
import {
  createService,
  isEntryPoint,
  useConsumer,
  useDatabase,
  useOutbox,
  usePublisher,
  type ServiceSpec,
} from '@flotilla/runtime';
import { paymentEvents } from '@shop/contracts';
import { chargeHandler, consumedEvents } from './charge.js';
import { api } from './api.js';
import { paymentsHandlers } from './routes.js';
import { migrations, type PaymentsTables } from './schema.js';

/** What a test may change; the process itself runs with the defaults. */
export type MainOptions = Pick<ServiceSpec, 'env' | 'manageProcess' | 'logDestination'>;

export async function main(options: MainOptions = {}) {
  const svc = createService({ name: 'payments', ...options });
  const database = await useDatabase<PaymentsTables>(svc, { migrations });
  const publisher = usePublisher(svc, paymentEvents);
  const outbox = useOutbox(svc, { database, publisher, schemas: paymentEvents });
  svc.serve(api, paymentsHandlers(database));
  useConsumer(svc, 'orders', {
    schemas: consumedEvents,
    inbox: database,
    handler: chargeHandler(outbox),
  });
  const listening = await svc.start();
  return { svc, database, listening };
}

if (isEntryPoint(import.meta.url)) await main();
