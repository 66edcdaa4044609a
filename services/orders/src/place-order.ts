/**
 * Placing an order: reserve the stock in inventory (synchronously), then store the order and its
 * `order.placed` event in one transaction (the outbox), so the event exists exactly when the order does.
 *
 * Idempotency-Key: the order id is derived from the key, so a repeat (even one racing the first request)
 * reserves the same order id — which inventory reserves once — and finds the stored order. The same key with
 * another body is refused. Racing requests therefore share one reservation: the one that loses the race to
 * store the order answers as a replay and never releases that stock (it is the winner's order's).
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
import {
  PROBLEMS as INVENTORY_PROBLEMS,
  releaseStock,
  reserveStock,
  type Reservation,
} from './inventory-client.js';
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
  const { database, inventory, log } = deps;
  const hash = requestHash(input);
  const orderId = idempotencyKey !== undefined ? orderIdForKey(idempotencyKey) : uuidv7();
  /** The order an earlier request with the same key stored: it again, or 422 if that request had another body. */
  const replay = (earlier: OrderRow) => {
    if (earlier.request_hash !== hash) throw keyReused(idempotencyKey ?? '', orderId);
    return { order: toOrder(earlier), replayed: true };
  };
  if (idempotencyKey !== undefined) {
    // The key names the order id, so an earlier order with this key is found by its primary key. A stored
    // order is replayed without reserving: inventory takes the stock of a released reservation again, which
    // is right only for an order that was never stored (a cancelled one is stored, so it is never reserved
    // again from here; inventory also refuses to take a cancelled order's stock again, for a request that
    // passed this check before the order was stored).
    const earlier = await findOrder(database.db, orderId);
    if (earlier) return replay(earlier);
  }
  const reservation = await reserve(inventory, orderId, input.items, idempotencyKey);

  // Requests racing on one key share one reservation (same order id), so the stock is the stored order's,
  // whichever request stored it. A request that did not store the order therefore first looks for it: found,
  // it lost the race and answers as a replay; only when no order has the id is the stock its own to give back.
  let stored: OrderRow | undefined;
  try {
    stored = await storeOrder(deps, { orderId, input, reservation, idempotencyKey, hash });
  } catch (error) {
    // The loser's insert may fail instead of doing nothing (a serialization failure, a lost connection...).
    const winner = await storedBefore(deps, orderId, idempotencyKey).catch(() => undefined);
    if (winner) return replay(winner);
    // A genuine failure (or the lookup failed too, so we cannot tell): compensate, as a failure always did.
    // The client's retry with the same key reserves the same order id again, and inventory takes the stock
    // of the released reservation again for it.
    await releaseStock(inventory, orderId).catch((err: unknown) =>
      log.warn({ err, orderId }, 'could not release the reservation of an order that was not stored'),
    );
    throw error;
  }
  if (stored) return { order: toOrder(stored), replayed: false };
  // The insert did nothing: a concurrent request with the same key stored the order first.
  const winner = await storedBefore(deps, orderId, idempotencyKey);
  if (!winner) throw keyReused(idempotencyKey ?? '', orderId);
  return replay(winner);
}

/**
 * Reserves the stock of `orderId`. Inventory holds one reservation per order id and refuses a second one for
 * other items; for an order id derived from a key that means a request with the same key and another body
 * reserved first, which gets the answer of a replay with another body (422 key reused).
 */
async function reserve(
  inventory: PeerClient,
  orderId: string,
  items: PlaceOrderInput['items'],
  idempotencyKey: string | undefined,
): Promise<Reservation> {
  try {
    return await reserveStock(inventory, orderId, items);
  } catch (error) {
    const mismatch = error instanceof HttpError && error.type === INVENTORY_PROBLEMS.reservationMismatch;
    if (mismatch && idempotencyKey !== undefined) throw keyReused(idempotencyKey, orderId);
    throw error;
  }
}

/** The order stored under `orderId` by another request with the same key; none without a key (a fresh id). */
async function storedBefore(
  deps: PlaceOrderDeps,
  orderId: string,
  idempotencyKey: string | undefined,
): Promise<OrderRow | undefined> {
  return idempotencyKey === undefined ? undefined : findOrder(deps.database.db, orderId);
}

/**
 * Stores the order and its `order.placed` event in one transaction. Returns undefined when an order with the
 * id exists already (a concurrent request with the same key stored it first).
 */
async function storeOrder(
  deps: PlaceOrderDeps,
  order: {
    orderId: string;
    input: PlaceOrderInput;
    reservation: Reservation;
    idempotencyKey: string | undefined;
    hash: string;
  },
): Promise<OrderRow | undefined> {
  const { orderId, input, reservation, idempotencyKey } = order;
  return deps.database.transaction(async (trx) => {
    const row = await trx
      .insertInto('orders')
      .values({
        id: orderId,
        customer_id: input.customerId,
        status: 'PENDING',
        items: JSON.stringify(reservation.items) as never,
        total_cents: reservation.totalCents,
        idempotency_key: idempotencyKey ?? null,
        request_hash: idempotencyKey !== undefined ? order.hash : null,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    await deps.outbox.publish(trx, 'orders', {
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
}
