/**
 * Placing an order: reserve the stock in inventory (synchronously), then store the order and its
 * `order.placed` event in one transaction (the outbox), so the event exists exactly when the order does.
 *
 * Idempotency-Key: the order id is derived from the key, so a repeat (even one racing the first request)
 * reserves the same order id — which inventory reserves once — and finds the stored order. The same key with
 * another body is refused.
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
 */
import { createHash } from 'node:crypto';
import {
  HttpError,
  uuidv7,
  type Database,
  type Logger,
  type Outbox,
  type PeerClient,
} from '@flotilla/runtime';
import type { orderEvents } from '@shop/contracts';
import { releaseStock, reserveStock } from './inventory-client.js';
import { findOrder, toOrder, type Order, type OrderRow } from './order.js';
import type { OrdersTables } from './schema.js';

export interface PlaceOrderInput {
  readonly customerId: string;
  readonly items: readonly { sku: string; quantity: number }[];
}

export interface PlaceOrderDeps {
  readonly database: Database<OrdersTables>;
  readonly outbox: Outbox<OrdersTables, typeof orderEvents>;
  readonly inventory: PeerClient;
  readonly log: Logger;
}

export const PROBLEMS = {
  idempotencyKeyReused: 'urn:shop:problem:idempotency-key-reused',
} as const;

/** Hash of the (validated) body, to tell a repeat from another request under the same key. */
function requestHash(input: PlaceOrderInput): string {
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

/** A UUID (version 8, RFC 9562) derived from the key: the same key always names the same order. */
export function orderIdForKey(key: string): string {
  const h = createHash('sha256').update(`order:${key}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function keyReused(key: string, orderId: string): HttpError {
  return new HttpError(
    422,
    `Idempotency-Key ${JSON.stringify(key)} was already used for order ${orderId} with a different body. ` +
      'Send the same body to get that order again, or use a new key for a new order.',
    { type: PROBLEMS.idempotencyKeyReused, title: 'Idempotency-Key reused', extensions: { orderId } },
  );
}

/** Places an order; `replayed` is true when the key named an order placed before. */
export async function placeOrder(
  deps: PlaceOrderDeps,
  input: PlaceOrderInput,
  idempotencyKey?: string,
): Promise<{ order: Order; replayed: boolean }> {
  const { database, outbox, inventory, log } = deps;
  const hash = requestHash(input);
  const orderId = idempotencyKey !== undefined ? orderIdForKey(idempotencyKey) : uuidv7();
  /** The order an earlier request with the same key stored: it again, or 422 if that request had another body. */
  const replay = (earlier: OrderRow) => {
    if (earlier.request_hash !== hash) throw keyReused(idempotencyKey ?? '', orderId);
    return { order: toOrder(earlier), replayed: true };
  };
  if (idempotencyKey !== undefined) {
    // The key names the order id, so an earlier order with this key is found by its primary key.
    const earlier = await findOrder(database.db, orderId);
    if (earlier) return replay(earlier);
  }
  const reservation = await reserveStock(inventory, orderId, input.items);

  let stored;
  try {
    stored = await database.transaction(async (trx) => {
      const row = await trx
        .insertInto('orders')
        .values({
          id: orderId,
          customer_id: input.customerId,
          status: 'PENDING',
          items: JSON.stringify(reservation.items) as never,
          total_cents: reservation.totalCents,
          idempotency_key: idempotencyKey ?? null,
          request_hash: idempotencyKey !== undefined ? hash : null,
        })
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined; // a concurrent repeat with the same key stored it first
      await outbox.publish(trx, 'orders', {
        type: 'order.placed',
        data: {
          orderId,
          customerId: input.customerId,
          items: reservation.items,
          totalCents: reservation.totalCents,
        },
      });
      return row;
    });
  } catch (error) {
    // The order is not stored: give the stock back (best effort; a retry with the same key reuses it).
    await releaseStock(inventory, orderId).catch((err: unknown) =>
      log.warn({ err, orderId }, 'could not release the reservation of an order that was not stored'),
    );
    throw error;
  }
  if (stored) return { order: toOrder(stored), replayed: false };
  const winner = await findOrder(database.db, orderId);
  if (!winner) throw keyReused(idempotencyKey ?? '', orderId);
  return replay(winner);
}
