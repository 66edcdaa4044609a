/** The notifications process: one (simulated) e-mail per order outcome, and the API that lists them. */
import { createService, isEntryPoint, useConsumer, useDatabase, type ServiceSpec } from '@flotilla/runtime';
import { notifyOutcome, outcomeEvents } from './notify.js';
import { api } from './api.js';
import { notificationsHandlers } from './routes.js';
import { migrations, type NotificationsTables } from './schema.js';

/** What a test may change; the process itself runs with the defaults. */
export type MainOptions = Pick<ServiceSpec, 'env' | 'manageProcess' | 'logDestination'>;

export async function main(options: MainOptions = {}) {
  const svc = createService({ name: 'notifications', ...options });
  const database = await useDatabase<NotificationsTables>(svc, { migrations });
  svc.serve(api, notificationsHandlers(database));
  useConsumer(svc, 'orders', { schemas: outcomeEvents, inbox: database, handler: notifyOutcome });
  const listening = await svc.start();
  return { svc, database, listening };
}

if (isEntryPoint(import.meta.url)) await main();
