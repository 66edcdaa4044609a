/**
 * Stock operations. A reservation is idempotent per order id: the first call takes the stock, a repeat
 * (a retried HTTP call) returns the same reservation and takes nothing. A release gives the stock back once;
 * a repeat after a release takes it again, unless the release was the order's cancellation.
 */
import { HttpError, type Database } from '@flotilla/runtime';
import { sql, type Transaction } from 'kysely';
import type { InventoryTables } from './schema.js';

export interface Item {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly available: number;
}

export interface ReservationLine {
  readonly sku: string;
  readonly quantity: number;
  readonly priceCents: number;
}

export interface Reservation {
  readonly orderId: string;
  readonly items: readonly ReservationLine[];
  readonly totalCents: number;
  readonly released: boolean;
}

export const PROBLEMS = {
  unknownSku: 'urn:shop:problem:unknown-sku',
  insufficientStock: 'urn:shop:problem:insufficient-stock',
  reservationMismatch: 'urn:shop:problem:reservation-mismatch',
} as const;

type Db = Database<InventoryTables>;
type Trx = Transaction<InventoryTables>;

export async function getItem(database: Db, sku: string): Promise<Item | undefined> {
  const row = await database.db.selectFrom('items').selectAll().where('sku', '=', sku).executeTakeFirst();
  return row && { sku: row.sku, name: row.name, priceCents: row.price_cents, available: row.available };
}

async function loadReservation(trx: Trx, orderId: string): Promise<Reservation | undefined> {
  const head = await trx
    .selectFrom('reservations')
    .selectAll()
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  if (!head) return undefined;
  const lines = await trx
    .selectFrom('reservation_lines')
    .select(['sku', 'quantity', 'price_cents'])
    .where('order_id', '=', orderId)
    .orderBy('sku')
    .execute();
  return {
    orderId,
    items: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, priceCents: l.price_cents })),
    totalCents: head.total_cents,
    released: head.released_at !== null,
  };
}

/** Merges repeated SKUs, so `[{A,1},{A,2}]` reserves 3 of A in one line. */
function merge(items: readonly { sku: string; quantity: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) out.set(i.sku, (out.get(i.sku) ?? 0) + i.quantity);
  return out;
}

/**
 * Reserves `items` for `orderId`, or returns the reservation the order already has. A reservation released
 * because its order could not be stored is taken again: the retry that reserves it again is placing that
 * order (orders releases only an order it did not store, and reserves only for an order id it has not stored).
 * One released because its order was cancelled stays released (see `releaseCancelled`).
 * @returns the reservation and whether this call took its stock (false: the order already held it)
 * @throws HttpError 422 (unknown SKU, or the order already reserved other items), 409 (not enough stock)
 */
export async function reserve(
  database: Db,
  orderId: string,
  items: readonly { sku: string; quantity: number }[],
): Promise<{ reservation: Reservation; created: boolean }> {
  const wanted = merge(items);
  return database.transaction(async (trx) => {
    // Claims the order id first: a concurrent repeat waits here for this transaction, then finds the row.
    const claimed = await trx
      .insertInto('reservations')
      .values({ order_id: orderId, total_cents: 0 })
      .onConflict((oc) => oc.column('order_id').doNothing())
      .returning('order_id')
      .executeTakeFirst();
    if (claimed) return { reservation: await reserveNew(trx, orderId, wanted), created: true };
    // Before reading it: the update locks the row, so of concurrent repeats only one takes the stock again.
    const retaken = await unrelease(trx, orderId);
    const existing = (await loadReservation(trx, orderId))!;
    const same =
      existing.items.length === wanted.size && existing.items.every((l) => wanted.get(l.sku) === l.quantity);
    if (!same) {
      throw new HttpError(
        422,
        `Order ${orderId} already has a reservation for other items; a retry must send the same items.`,
        { type: PROBLEMS.reservationMismatch, title: 'Reservation mismatch', extensions: { orderId } },
      );
    }
    // The lines keep the prices reserved first: the same order id names the same reservation. Their SKUs are
    // in the catalogue (the lines reference it), so only the stock is taken again.
    if (retaken) await takeStock(trx, wanted);
    return { reservation: existing, created: retaken };
  });
}

/**
 * Clears `released_at` of `orderId`'s reservation when it was released and its order not cancelled. The stock
 * is not taken yet: a failure after this (mismatch, not enough stock) rolls the transaction back, released.
 */
async function unrelease(trx: Trx, orderId: string): Promise<boolean> {
  const row = await trx
    .updateTable('reservations')
    .set({ released_at: null })
    .where('order_id', '=', orderId)
    .where('released_at', 'is not', null)
    .where('cancelled_at', 'is', null)
    .returning('order_id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Takes the stock of the order id this transaction claimed and writes its lines and total.
 * @throws HttpError 422 on an unknown SKU (and whatever {@link takeStock} throws)
 */
async function reserveNew(trx: Trx, orderId: string, wanted: Map<string, number>): Promise<Reservation> {
  const skus = [...wanted.keys()];
  const known = await trx.selectFrom('items').select('sku').where('sku', 'in', skus).execute();
  const unknown = skus.filter((s) => !known.some((k) => k.sku === s)).sort();
  if (unknown.length > 0) {
    throw new HttpError(422, `Unknown SKU ${unknown.join(', ')}: no such item in the catalogue.`, {
      type: PROBLEMS.unknownSku,
      title: 'Unknown SKU',
      extensions: { skus: unknown },
    });
  }
  const lines = await takeStock(trx, wanted);
  const totalCents = lines.reduce((sum, l) => sum + l.quantity * l.priceCents, 0);
  await trx
    .insertInto('reservation_lines')
    .values(
      lines.map((l) => ({ order_id: orderId, sku: l.sku, quantity: l.quantity, price_cents: l.priceCents })),
    )
    .execute();
  await trx
    .updateTable('reservations')
    .set({ total_cents: totalCents })
    .where('order_id', '=', orderId)
    .execute();
  return { orderId, items: lines, totalCents, released: false };
}

/**
 * Takes `wanted` (SKUs in the catalogue) off the shelf, at today's prices. Throws (and the caller's
 * transaction rolls back whatever was taken) when one SKU has not enough stock.
 */
async function takeStock(trx: Trx, wanted: Map<string, number>): Promise<ReservationLine[]> {
  const lines: ReservationLine[] = [];
  // A fixed lock order, so concurrent reservations cannot deadlock.
  for (const sku of [...wanted.keys()].sort()) {
    const quantity = wanted.get(sku)!;
    lines.push({ sku, quantity, priceCents: await takeItem(trx, sku, quantity) });
  }
  return lines;
}

/** Takes `quantity` of `sku`; its price. @throws HttpError 409 when fewer are available */
async function takeItem(trx: Trx, sku: string, quantity: number): Promise<number> {
  // One conditional update: never below zero, even with concurrent reservations on a server.
  const taken = await trx
    .updateTable('items')
    .set({ available: sql`available - ${quantity}` })
    .where('sku', '=', sku)
    .where('available', '>=', quantity)
    .returning(['price_cents'])
    .executeTakeFirst();
  if (taken) return taken.price_cents;
  const item = await trx.selectFrom('items').select('available').where('sku', '=', sku).executeTakeFirst();
  const available = item?.available ?? 0;
  throw new HttpError(409, `Not enough stock of ${sku}: ${quantity} requested, ${available} available.`, {
    type: PROBLEMS.insufficientStock,
    title: 'Insufficient stock',
    extensions: { sku, requested: quantity, available },
  });
}

/**
 * Gives the stock of `orderId`'s reservation back, once each time it was taken, in `trx` (the inbox
 * transaction, or the route's own).
 * @returns false when the order has no reservation or it was released before
 */
export async function release(trx: Trx, orderId: string): Promise<boolean> {
  const released = await trx
    .updateTable('reservations')
    .set({ released_at: sql`now()` })
    .where('order_id', '=', orderId)
    .where('released_at', 'is', null)
    .returning('order_id')
    .executeTakeFirst();
  if (!released) return false;
  const lines = await trx
    .selectFrom('reservation_lines')
    .select(['sku', 'quantity'])
    .where('order_id', '=', orderId)
    .orderBy('sku')
    .execute();
  for (const l of lines) {
    await trx
      .updateTable('items')
      .set({ available: sql`available + ${l.quantity}` })
      .where('sku', '=', l.sku)
      .execute();
  }
  return true;
}

/**
 * Gives the stock of a cancelled order back for good: marks the reservation cancelled, so that no late repeat
 * of the order's reservation takes the stock again (orders stored the order, so nothing would release it).
 * @returns false when the order has no reservation or it was released before
 */
export async function releaseCancelled(trx: Trx, orderId: string): Promise<boolean> {
  await trx
    .updateTable('reservations')
    .set({ cancelled_at: sql`now()` })
    .where('order_id', '=', orderId)
    .where('cancelled_at', 'is', null)
    .execute();
  return release(trx, orderId);
}
