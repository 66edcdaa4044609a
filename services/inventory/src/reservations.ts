/**
 * Reservations of stock, each under an id its client (orders) chose before the first attempt, so an answer
 * lost on the way back costs nothing: a repeat of the id with the same order and lines is the same
 * reservation (taking nothing), and a release names exactly it.
 *
 * A reservation's life: reserved (holds stock) -> confirmed (its order was stored: `order.placed`) ->
 * released when its order is cancelled. One never confirmed is released by its client (the order was not
 * stored) or, as the last line of defence, expires after the TTL (see `expiry.ts`). A released reservation
 * is never taken again, and a release of an id never reserved leaves a tombstone: a reserve that arrives
 * after its release (a request delayed on the network) takes nothing.
 *
 * Stock invariant: what a catalogue started with = what is available + the lines of the unreleased
 * reservations (each confirmed one belongs to a live order; each unconfirmed one is released by orders or
 * expires).
 */
import { HttpError, NonRetryableError, type Database } from '@flotilla/runtime';
import { sql, type UpdateQueryBuilder, type UpdateResult } from 'kysely';
import type { InventoryTables, ReleaseReason } from './schema.js';
import {
  checkCatalogue,
  giveBack,
  merge,
  PROBLEMS,
  takeStock,
  type ReservationLine,
  type Trx,
} from './stock.js';

export interface Reservation {
  readonly reservationId: string;
  readonly orderId: string;
  readonly items: readonly ReservationLine[];
  readonly totalCents: number;
}

export interface ReserveRequest {
  readonly reservationId: string;
  readonly orderId: string;
  readonly items: readonly { sku: string; quantity: number }[];
}

type Db = Database<InventoryTables>;

interface Loaded extends Reservation {
  readonly releaseReason: ReleaseReason | null;
}

async function load(trx: Trx, reservationId: string): Promise<Loaded> {
  const head = await trx
    .selectFrom('reservations')
    .selectAll()
    .where('id', '=', reservationId)
    .executeTakeFirstOrThrow();
  const lines = await trx
    .selectFrom('reservation_lines')
    .select(['sku', 'quantity', 'price_cents'])
    .where('reservation_id', '=', reservationId)
    .orderBy('sku')
    .execute();
  return {
    reservationId,
    orderId: head.order_id ?? '',
    items: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, priceCents: l.price_cents })),
    totalCents: head.total_cents,
    releaseReason: head.release_reason,
  };
}

/**
 * Reserves the items of `request`, or returns the reservation its id already names.
 * @returns the reservation and whether this call took its stock (false: a repeat)
 * @throws HttpError 422 (unknown SKU; the id names a reservation of another order or other items),
 *   409 (not enough stock; the id names a released reservation or a tombstone)
 */
export async function reserve(
  database: Db,
  request: ReserveRequest,
): Promise<{ reservation: Reservation; created: boolean }> {
  const { reservationId, orderId } = request;
  const wanted = merge(request.items);
  return database.transaction(async (trx) => {
    // Claims the id first: a concurrent repeat (or release) waits here for this transaction, then finds the row.
    const claimed = await trx
      .insertInto('reservations')
      .values({ id: reservationId, order_id: orderId, total_cents: 0 })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (claimed)
      return { reservation: await reserveNew(trx, request.reservationId, orderId, wanted), created: true };
    const { releaseReason, ...existing } = await load(trx, reservationId);
    if (releaseReason !== null) {
      throw new HttpError(
        409,
        `Reservation ${reservationId} was released (${releaseReason}) and is never taken again; reserve under a ` +
          'new reservation id.',
        {
          type: PROBLEMS.reservationReleased,
          title: 'Reservation released',
          extensions: { reservationId, reason: releaseReason },
        },
      );
    }
    const same =
      existing.orderId === orderId &&
      existing.items.length === wanted.size &&
      existing.items.every((l) => wanted.get(l.sku) === l.quantity);
    if (!same) {
      throw new HttpError(
        422,
        `Reservation ${reservationId} is for ${existing.orderId === orderId ? 'other items' : `order ${existing.orderId}`}; ` +
          'a retry must send the same order and items, anything else a new reservation id.',
        {
          type: PROBLEMS.reservationMismatch,
          title: 'Reservation mismatch',
          extensions: { reservationId, orderId },
        },
      );
    }
    return { reservation: existing, created: false };
  });
}

/** Takes the stock of the reservation this transaction claimed and writes its lines and total. */
async function reserveNew(
  trx: Trx,
  reservationId: string,
  orderId: string,
  wanted: Map<string, number>,
): Promise<Reservation> {
  await checkCatalogue(trx, wanted);
  const lines = await takeStock(trx, wanted);
  const totalCents = lines.reduce((sum, l) => sum + l.quantity * l.priceCents, 0);
  await trx
    .insertInto('reservation_lines')
    .values(
      lines.map((l) => ({
        reservation_id: reservationId,
        sku: l.sku,
        quantity: l.quantity,
        price_cents: l.priceCents,
      })),
    )
    .execute();
  await trx
    .updateTable('reservations')
    .set({ total_cents: totalCents })
    .where('id', '=', reservationId)
    .execute();
  return { reservationId, orderId, items: lines, totalCents };
}

/**
 * Gives the stock of reservation `reservationId` back (its client did not store the order). Idempotent. For an
 * id never reserved it leaves a tombstone, so a reserve that arrives later takes nothing.
 * @returns true when this call gave stock back
 */
export async function release(database: Db, reservationId: string): Promise<boolean> {
  return database.transaction(async (trx) => {
    // The tombstone first: a reserve of the id in flight commits before this insert goes on (then the
    // update below releases it) or finds the tombstone.
    const tombstone = await trx
      .insertInto('reservations')
      .values({
        id: reservationId,
        order_id: null,
        total_cents: 0,
        released_at: sql<Date>`now()`,
        release_reason: 'released',
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (tombstone) return false;
    const released = await releaseWhere(trx, 'released', (update) => update.where('id', '=', reservationId));
    return released.length > 0;
  });
}

/**
 * The order `orderId` was stored (`order.placed`): its reservations no longer expire. One that expired before
 * the event arrived (the event was late by more than the TTL) takes its stock again, because the order holds
 * it; without the stock for it, the event fails for good (to the dead-letter queue, its reason naming the
 * order), to be redriven once restocked.
 * @returns the number of reservations confirmed
 */
export async function confirmOrder(trx: Trx, orderId: string): Promise<number> {
  const confirmed = await trx
    .updateTable('reservations')
    .set({ confirmed_at: sql`now()` })
    .where('order_id', '=', orderId)
    .where('confirmed_at', 'is', null)
    .where('released_at', 'is', null)
    .returning('id')
    .execute();
  const expired = await trx
    .updateTable('reservations')
    .set({ confirmed_at: sql`now()`, released_at: null, release_reason: null })
    .where('order_id', '=', orderId)
    .where('release_reason', '=', 'expired')
    .returning('id')
    .execute();
  for (const { id } of expired) {
    const lines = await trx
      .selectFrom('reservation_lines')
      .select(['sku', 'quantity'])
      .where('reservation_id', '=', id)
      .execute();
    try {
      await takeStock(trx, merge(lines));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      throw new NonRetryableError(
        `Order ${orderId} was stored, but its reservation ${id} had expired before order.placed arrived and the ` +
          `stock is gone meanwhile (${error.message}): restock, then redrive this event.`,
        { cause: error },
      );
    }
  }
  return confirmed.length + expired.length;
}

/**
 * Gives the stock of the cancelled order `orderId` back, for good: a reservation of it that expired is marked
 * cancelled too, so that a late `order.placed` does not take its stock again.
 * @returns true when this call gave stock back
 */
export async function releaseCancelled(trx: Trx, orderId: string): Promise<boolean> {
  await trx
    .updateTable('reservations')
    .set({ release_reason: 'cancelled' })
    .where('order_id', '=', orderId)
    .where('release_reason', '=', 'expired')
    .execute();
  const released = await releaseWhere(trx, 'cancelled', (update) => update.where('order_id', '=', orderId));
  return released.length > 0;
}

/**
 * Releases up to `limit` reservations that were not confirmed within `ttlSeconds` of being made, oldest
 * first; on a server, replicas sweeping at once skip each other's rows.
 * @returns the reservations expired (id and order)
 */
export async function expireUnconfirmed(
  database: Db,
  ttlSeconds: number,
  limit: number,
): Promise<{ id: string; orderId: string | null }[]> {
  return database.transaction(async (trx) => {
    const due = trx
      .selectFrom('reservations')
      .select('id')
      .where('confirmed_at', 'is', null)
      .where('released_at', 'is', null)
      .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${ttlSeconds})`)
      .orderBy('created_at')
      .limit(limit)
      .forUpdate()
      .skipLocked();
    const expired = await releaseWhere(trx, 'expired', (update) => update.where('id', 'in', due));
    return expired.map((r) => ({ id: r.id, orderId: r.order_id }));
  });
}

type ReservationsUpdate = UpdateQueryBuilder<InventoryTables, 'reservations', 'reservations', UpdateResult>;

/**
 * Marks the reservations `which` selects (of those still holding stock) released for `reason`, and puts
 * their stock back on the shelf.
 * @returns the reservations released
 */
async function releaseWhere(
  trx: Trx,
  reason: ReleaseReason,
  which: (update: ReservationsUpdate) => ReservationsUpdate,
): Promise<{ id: string; order_id: string | null }[]> {
  const released = await which(
    trx.updateTable('reservations').set({ released_at: sql`now()`, release_reason: reason }),
  )
    .where('released_at', 'is', null)
    .returning(['id', 'order_id'])
    .execute();
  await giveBack(
    trx,
    released.map((r) => r.id),
  );
  return released;
}
