/**
 * The inventory process: catalogue and stock in its own database, the reservation API orders calls, and the
 * consumer that releases the stock of cancelled orders.
 */
import { createService, isEntryPoint, useConsumer, useDatabase, type ServiceSpec } from '@flotilla/runtime';
import { consumedEvents, onOrderCancelled } from './handlers.js';
import { inventoryRoutes } from './routes.js';
import { migrations, type InventoryTables } from './schema.js';

/** What a test may change; the process itself runs with the defaults. */
export type MainOptions = Pick<ServiceSpec, 'env' | 'manageProcess' | 'logDestination'>;

export async function main(options: MainOptions = {}) {
  const svc = createService({ name: 'inventory', ...options });
  const database = await useDatabase<InventoryTables>(svc, { migrations });
  inventoryRoutes(svc.router, database);
  useConsumer(svc, 'orders', {
    schemas: consumedEvents,
    inbox: database,
    handler: onOrderCancelled,
  });
  const listening = await svc.start();
  return { svc, database, listening };
}

if (isEntryPoint(import.meta.url)) await main();
