/**
 * The inventory process: catalogue and stock in its own database, the reservation API orders calls, the
 * consumer that confirms reservations of stored orders and releases those of cancelled ones, and the sweep
 * that expires reservations never confirmed.
 */
import { createService, isEntryPoint, useConsumer, useDatabase, type ServiceSpec } from '@flotilla/runtime';
import { z } from 'zod';
import { startReservationExpiry, type ReservationExpiry } from './expiry.js';
import { consumedEvents, onOrderEvent } from './handlers.js';
import { api } from './api.js';
import { inventoryHandlers } from './routes.js';
import { migrations, type InventoryTables } from './schema.js';

/** What a test may change; the process itself runs with the defaults. */
export type MainOptions = Pick<ServiceSpec, 'env' | 'manageProcess' | 'logDestination'>;

/** A whole number of seconds from a variable, at least 1. */
const seconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Inventory's own variables (the kit validates them with the base ones at start). */
export const inventoryConfig = {
  /**
   * Seconds a reservation whose order was never stored holds its stock before it expires. Orders releases
   * such reservations itself within seconds; this is the last line of defence, so it is long enough that an
   * `order.placed` held up by a messaging outage still confirms its reservation first (it covers the
   * consumers' retry window of 15 minutes several times over).
   * @default 3600
   */
  RESERVATION_TTL_SECONDS: seconds(3600),
  /**
   * Seconds between two sweeps for expired reservations; a reservation holds its stock for at most the TTL
   * plus this.
   * @default 60
   */
  RESERVATION_SWEEP_INTERVAL_SECONDS: seconds(60),
};

export async function main(options: MainOptions = {}) {
  const svc = createService({ name: 'inventory', config: inventoryConfig, ...options });
  const database = await useDatabase<InventoryTables>(svc, { migrations });
  svc.serve(api, inventoryHandlers(database));
  useConsumer(svc, 'orders', {
    schemas: consumedEvents,
    inbox: database,
    handler: onOrderEvent,
  });
  let expiry: ReservationExpiry | undefined;
  svc.lifecycle.onStart('reservation-expiry', () => {
    expiry = startReservationExpiry({
      database,
      log: svc.log.child({ module: 'reservation-expiry' }),
      ttlSeconds: svc.config.RESERVATION_TTL_SECONDS,
      intervalMs: svc.config.RESERVATION_SWEEP_INTERVAL_SECONDS * 1000,
    });
  });
  // Registered after the database's stop phase, so it stops (and its sweep in flight ends) before that closes.
  svc.lifecycle.onStop('reservation-expiry', () => expiry?.stop());
  const listening = await svc.start();
  return { svc, database, listening };
}

if (isEntryPoint(import.meta.url)) await main();
