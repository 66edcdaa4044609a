/**
 * Stock on the shelf: the catalogue's `available` counts, taken by reservations and given back by releases.
 * Every change goes through here, in the caller's transaction, in one lock order (by SKU), so concurrent
 * reservations and releases on a PostgreSQL server cannot deadlock.
 */
import { HttpError, type Database } from '@flotilla/runtime';
import { sql, type Transaction } from 'kysely';
import { PROBLEMS } from './api.js';
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

export { PROBLEMS } from './api.js';

export type Trx = Transaction<InventoryTables>;

export async function getItem(database: Database<InventoryTables>, sku: string): Promise<Item | undefined> {
  const row = await database.db.selectFrom('items').selectAll().where('sku', '=', sku).executeTakeFirst();
  return row && { sku: row.sku, name: row.name, priceCents: row.price_cents, available: row.available };
}

/** Merges repeated SKUs, so `[{A,1},{A,2}]` is 3 of A in one line. */
export function merge(items: readonly { sku: string; quantity: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) out.set(i.sku, (out.get(i.sku) ?? 0) + i.quantity);
  return out;
}

/** @throws HttpError 422 naming the SKUs of `wanted` that are not in the catalogue */
export async function checkCatalogue(trx: Trx, wanted: Map<string, number>): Promise<void> {
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
}

/**
 * Takes `wanted` (SKUs in the catalogue) off the shelf, at today's prices. Throws (and the caller's
 * transaction rolls back whatever was taken) when one SKU has not enough stock.
 */
export async function takeStock(trx: Trx, wanted: Map<string, number>): Promise<ReservationLine[]> {
  const lines: ReservationLine[] = [];
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

/** Puts the lines of the reservations `reservationIds` back on the shelf (the caller marked them released). */
export async function giveBack(trx: Trx, reservationIds: readonly string[]): Promise<void> {
  if (reservationIds.length === 0) return;
  const lines = await trx
    .selectFrom('reservation_lines')
    .select(['sku', 'quantity'])
    .where('reservation_id', 'in', reservationIds)
    .execute();
  const back = merge(lines);
  for (const sku of [...back.keys()].sort()) {
    await trx
      .updateTable('items')
      .set({ available: sql`available + ${back.get(sku)!}` })
      .where('sku', '=', sku)
      .execute();
  }
}
