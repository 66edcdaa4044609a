/**
 * Reservations in inventory that no stored order holds: the compensation of a reserve step whose answer can
 * be lost. Before its first reserve attempt, a request writes a row `reserving` under the reservation id it
 * chose; the transaction that stores the order deletes it. Whenever the order is not stored, the row turns
 * `releasing` and inventory is told to release the id (idempotent, and for an id it never saw it leaves a
 * tombstone, so a reserve still on its way takes nothing); the row goes once inventory confirmed.
 *
 * The request tries that release at once; when it fails, or the request never got that far (the process
 * crashed, or the request outlived {@link ABANDONED_AFTER_SECONDS}), the {@link startReleaser} worker of any
 * replica retries it with backoff until inventory confirms, also after a restart: the row is in the orders
 * database.
 *
 * Why a table of orders' own rather than an event through the outbox: the row must exist before the
 * reserve call (so a crash during the call leaves it behind) yet must not act until the request is known
 * to have failed, while the outbox publishes a row as soon as it commits; and the release is a call to
 * inventory's idempotent HTTP API, which needs no new subscription and goes on working while SNS/SQS are
 * down.
 */
import {
  captureTrace,
  resumeTrace,
  startPeriodicTask,
  type Database,
  type Logger,
  type SavedTrace,
} from '@flotilla/runtime';
import { sql } from 'kysely';
import { releaseStock, type InventoryClient } from './inventory-client.js';
import type { Executor } from './order.js';
import type { OrdersTables } from './schema.js';

/**
 * Seconds after which a request placing an order counts as gone: its claim of an Idempotency-Key may be
 * taken over, and its reservation is released by the worker (its order can then no longer be stored).
 * Placing an order takes far less (inventory's calls time out after 1.5 s, with two retries), so a live
 * request is not overtaken.
 */
export const ABANDONED_AFTER_SECONDS = 30;

/**
 * Seconds a release in flight keeps its row from other releasers. Longer than one release call with its
 * retries (see {@link WORKER_CALL}), so a row is released by one process at a time, and picked up again
 * after a crash.
 */
const RELEASE_LEASE_SECONDS = 60;

/** Backoff of a failed release: 1 s, doubling to at most a minute, with equal jitter. */
const BACKOFF = { baseSeconds: 1, maxSeconds: 60 } as const;

/**
 * A release by the worker: nobody waits for it, so an inventory that answers slowly (but answers) gets the
 * time to; the breaker still stops calls to an inventory that is down.
 */
const WORKER_CALL = { timeoutMs: 10_000 } as const;

/** How long the request that failed waits for its own release before it leaves it to the worker. */
const INLINE_RELEASE_MS = 3000;

/** Rows the worker releases at once. */
const BATCH = 10;

/** What the release of one row needs. */
export interface ReleaseDeps {
  readonly database: Database<OrdersTables>;
  readonly inventory: InventoryClient;
  readonly log: Logger;
}

interface Claimed {
  readonly id: string;
  readonly order_id: string;
  readonly attempts: number;
  readonly trace_context: SavedTrace;
}

/** The columns a releaser reads of the rows it claims. */
const CLAIMED = ['id', 'order_id', 'attempts', 'trace_context'] as const;

/** Writes the row of a reservation about to be requested; before the first attempt, in its own statement. */
export async function openReservation(
  database: Database<OrdersTables>,
  reservation: { readonly id: string; readonly orderId: string },
): Promise<void> {
  await database.db
    .insertInto('open_reservations')
    .values({
      id: reservation.id,
      order_id: reservation.orderId,
      state: 'reserving',
      next_attempt_at: sql<Date>`now() + make_interval(secs => ${ABANDONED_AFTER_SECONDS})`,
      trace_context: JSON.stringify(captureTrace()),
    })
    .execute();
}

/**
 * In the transaction that stores the order: the reservation is the order's now. False when it is being
 * released already (the request outlived {@link ABANDONED_AFTER_SECONDS}): the order must not be stored.
 */
export async function holdForOrder(trx: Executor, reservationId: string): Promise<boolean> {
  const held = await trx
    .deleteFrom('open_reservations')
    .where('id', '=', reservationId)
    .where('state', '=', 'reserving')
    .returning('id')
    .executeTakeFirst();
  return held !== undefined;
}

/**
 * The order of `reservationId` was not stored: releases it now, waiting at most a few seconds, and leaves it
 * to the worker when that fails (or when the worker has it already). Never throws.
 */
export async function releaseNow(deps: ReleaseDeps, reservationId: string): Promise<void> {
  let claimed: Claimed | undefined;
  try {
    claimed = await deps.database.db
      .updateTable('open_reservations')
      .set(releasing())
      .where('id', '=', reservationId)
      .where('state', '=', 'reserving')
      .returning(CLAIMED)
      .executeTakeFirst();
  } catch (err) {
    // The row stays `reserving`; the worker releases it once it counts as abandoned.
    deps.log.warn({ err, reservationId }, 'could not mark a reservation for release; the worker will');
    return;
  }
  if (claimed) await releaseOne(deps, claimed, { signal: AbortSignal.timeout(INLINE_RELEASE_MS) });
}

/** The row's new state when a releaser takes it: its lease starts, one more attempt is counted. */
function releasing() {
  return {
    state: 'releasing' as const,
    attempts: sql<number>`attempts + 1`,
    next_attempt_at: sql<Date>`now() + make_interval(secs => ${RELEASE_LEASE_SECONDS})`,
  };
}

/** Asks inventory to release one claimed row; deletes the row when it confirmed, else schedules a retry. */
async function releaseOne(
  deps: ReleaseDeps,
  row: Claimed,
  call: Parameters<typeof releaseStock>[2],
): Promise<void> {
  const { database, inventory, log } = deps;
  const fields = { reservationId: row.id, orderId: row.order_id, attempts: row.attempts };
  try {
    await releaseStock(inventory, row.id, call);
  } catch (err) {
    const delay = Math.min(BACKOFF.maxSeconds, BACKOFF.baseSeconds * 2 ** (row.attempts - 1));
    await database.db
      .updateTable('open_reservations')
      .set({
        next_attempt_at: sql<Date>`now() + make_interval(secs => ${delay} * (0.5 + random() / 2))`,
        last_error: err instanceof Error ? err.message : String(err),
      })
      .where('id', '=', row.id)
      .execute()
      .catch((error: unknown) => log.warn({ err: error, ...fields }, 'could not schedule a release retry'));
    log[row.attempts >= 5 ? 'error' : 'warn'](
      { err, ...fields },
      'inventory did not confirm the release of a reservation whose order was not stored; retrying',
    );
    return;
  }
  await database.db
    .deleteFrom('open_reservations')
    .where('id', '=', row.id)
    .execute()
    // Released (idempotent): a leftover row only makes the worker release it once more.
    .catch((err: unknown) => log.warn({ err, ...fields }, 'released, but could not delete the row'));
  log.info(fields, 'released the reservation of an order that was not stored');
}

/** Options of {@link startReleaser}. */
export interface ReleaserOptions extends ReleaseDeps {
  /** Milliseconds between two looks for due rows. @default 1000 */
  readonly intervalMs?: number;
}

export interface Releaser {
  /** Releases every row due now (after the round in flight); resolves with the number of rows tried. */
  drain(): Promise<number>;
  /** Stops looking and waits for the round in flight. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the worker that releases due rows: those whose release failed before, and those of requests that
 * are gone. Replicas share the work: a row is taken with `FOR UPDATE SKIP LOCKED` and leased.
 */
export function startReleaser(options: ReleaserOptions): Releaser {
  const { database } = options;

  async function round(stopping: () => boolean): Promise<number> {
    let tried = 0;
    for (;;) {
      const due = database.db
        .selectFrom('open_reservations')
        .select('id')
        .where('next_attempt_at', '<=', sql<Date>`now()`)
        .orderBy('next_attempt_at')
        .limit(BATCH)
        .forUpdate()
        .skipLocked();
      const claimed = await database.db
        .updateTable('open_reservations')
        .set(releasing())
        .where('id', 'in', due)
        .returning(CLAIMED)
        .execute();
      // Each release is traced in the trace of the request that left it, not as a root of its own.
      await Promise.all(
        claimed.map((row) =>
          resumeTrace(row.trace_context, 'release reservation', () => releaseOne(options, row, WORKER_CALL)),
        ),
      );
      tried += claimed.length;
      if (claimed.length < BATCH || stopping()) return tried;
    }
  }

  const task = startPeriodicTask({
    name: 'releasing open reservations',
    intervalMs: options.intervalMs ?? 1000,
    round,
    log: options.log,
  });
  return { drain: task.runNow, stop: task.stop };
}
