/**
 * The last line of defence against leaked stock: a sweep that releases reservations still unconfirmed after
 * the TTL. Orders releases the reservation of every order it did not store (durably, retried until inventory
 * answers), so a reservation expires only when that failed for longer than the TTL (orders' database lost,
 * a bug). Each expiry is logged as a warning for that reason.
 */
import { startPeriodicTask, type Database, type Logger } from '@flotilla/runtime';
import { expireUnconfirmed } from './reservations.js';
import type { InventoryTables } from './schema.js';

/** Reservations released per statement; a sweep repeats until fewer are due. */
const BATCH = 100;

export interface ExpiryOptions {
  readonly database: Database<InventoryTables>;
  readonly log: Logger;
  /** Seconds an unconfirmed reservation holds its stock. */
  readonly ttlSeconds: number;
  /** Milliseconds between two sweeps. */
  readonly intervalMs: number;
}

export interface ReservationExpiry {
  /** Runs a sweep now (after the one in flight, if any); resolves with the number of reservations expired. */
  sweep(): Promise<number>;
  /** Stops sweeping and waits for the sweep in flight. Idempotent. */
  stop(): Promise<void>;
}

export function startReservationExpiry(options: ExpiryOptions): ReservationExpiry {
  const { database, log, ttlSeconds } = options;

  async function sweepOnce(stopping: () => boolean): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await expireUnconfirmed(database, ttlSeconds, BATCH);
      for (const r of expired) {
        log.warn(
          { reservationId: r.id, orderId: r.orderId, ttlSeconds },
          'reservation expired unconfirmed: its stock is back on the shelf (its order was never stored, and ' +
            'orders did not release it)',
        );
      }
      total += expired.length;
      if (expired.length < BATCH || stopping()) return total;
    }
  }

  const task = startPeriodicTask({
    name: 'reservation expiry sweep',
    intervalMs: options.intervalMs,
    round: sweepOnce,
    log,
  });
  return { sweep: task.runNow, stop: task.stop };
}
