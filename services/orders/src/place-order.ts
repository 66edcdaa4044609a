/**
 * Placing an order: reserve the stock in inventory (synchronously), then store the order and its
 * `order.placed` event in one transaction (the outbox), so the event exists exactly when the order does.
 *
 * The reservation is made under an id chosen before the first attempt and recorded in orders' database
 * first (`open-reservations.ts`), so an answer inventory sends but orders never gets costs no stock: whenever
 * the order is not stored (inventory's answer lost or refused, storing failed, the process crashed), that
 * reservation is released, now or by the worker that retries until inventory confirms.
 *
 * Idempotency-Key: the order id is derived from the key. A request first claims the key
 * (`idempotency-claim.ts`); only the claimant reserves and stores the order (deleting its claim in the same
 * transaction). Another request with the key gets the stored order again (201 with `Idempotent-Replayed`),
 * 409 while the claimant is still at work, and 422 when its body differs from the one that used the key.
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
 */
import { createHash } from 'node:crypto';
import { HttpError, uuidv7, type Database, type Logger, type Outbox } from '@flotilla/runtime';
import type { orderEvents } from '@shop/contracts';
import {
  INVENTORY_PROBLEMS,
  reserveStock,
  type InventoryClient,
  type Reservation,
} from './inventory-client.js';
import { claimKey, lapse, unclaim, type Claim } from './idempotency-claim.js';
import { ABANDONED_AFTER_SECONDS, holdForOrder, openReservation, releaseNow } from './open-reservations.js';
import { toOrder, type Order, type OrderRow } from './order.js';
import type { OrdersTables } from './schema.js';

export interface PlaceOrderInput {
  readonly customerId: string;
  readonly items: readonly { sku: string; quantity: number }[];
}

export interface PlaceOrderDeps {
  readonly database: Database<OrdersTables>;
  readonly outbox: Outbox<OrdersTables, typeof orderEvents>;
  readonly inventory: InventoryClient;
  readonly log: Logger;
}

export const PROBLEMS = {
  idempotencyKeyReused: 'urn:shop:problem:idempotency-key-reused',
  idempotencyKeyInProgress: 'urn:shop:problem:idempotency-key-in-progress',
  orderTimedOut: 'urn:shop:problem:order-timed-out',
} as const;

/** Seconds a request told "in progress" should wait: placing an order takes well under a second. */
const IN_PROGRESS_RETRY_AFTER_SECONDS = 1;

/** Hash of the (validated) body, to tell a repeat from another request under the same key. */
export function requestHash(input: PlaceOrderInput): string {
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

/** 409: the first request with the key has not finished (draft-ietf-httpapi-idempotency-key-header §2.7). */
function inProgress(key: string): HttpError {
  return new HttpError(
    409,
    `The first request with Idempotency-Key ${JSON.stringify(key)} is still being processed. Retry after ` +
      'the Retry-After delay with the same key and body to get its order.',
    {
      type: PROBLEMS.idempotencyKeyInProgress,
      title: 'Idempotency-Key in progress',
      retryAfter: IN_PROGRESS_RETRY_AFTER_SECONDS,
    },
  );
}

/** Places an order; `replayed` is true when the key named an order placed before. */
export async function placeOrder(
  deps: PlaceOrderDeps,
  input: PlaceOrderInput,
  idempotencyKey?: string,
): Promise<{ order: Order; replayed: boolean }> {
  // Without a key the order id is fresh, so nothing else can act on its reservation: no claim is needed.
  if (idempotencyKey === undefined) return { order: await place(deps, uuidv7(), input), replayed: false };
  const orderId = orderIdForKey(idempotencyKey);
  const hash = requestHash(input);
  const claimed = await claimKey(deps.database, { key: idempotencyKey, orderId, requestHash: hash });
  if (claimed.kind === 'stored') {
    // A stored order is answered without reserving (a cancelled one's stock must not be taken again).
    if (claimed.order.request_hash !== hash) throw keyReused(idempotencyKey, orderId);
    return { order: toOrder(claimed.order), replayed: true };
  }
  if (claimed.kind === 'held') {
    throw claimed.requestHash === hash ? inProgress(idempotencyKey) : keyReused(idempotencyKey, orderId);
  }
  if (claimed.tookOver)
    deps.log.warn({ orderId }, 'took over the key from an earlier request that did not store its order');
  return { order: await place(deps, orderId, input, claimed.claim), replayed: false };
}

/** Reserves the stock and stores the order; with a key, only ever called by the key's claimant. */
async function place(
  deps: PlaceOrderDeps,
  orderId: string,
  input: PlaceOrderInput,
  claim?: Claim,
): Promise<Order> {
  const reservationId = uuidv7();
  let reservation: Reservation;
  try {
    await openReservation(deps.database, { id: reservationId, orderId });
    reservation = await reserve(deps.inventory, { reservationId, orderId, items: input.items });
  } catch (error) {
    // Inventory may hold the reservation anyway (an answer lost on the way back): release it.
    await releaseNow(deps, reservationId);
    if (claim) await unclaim(deps.database.db, claim).catch(warn(deps, orderId, 'give up the key'));
    throw error;
  }
  try {
    return toOrder(await storeOrder(deps, { orderId, input, reservation, claim }));
  } catch (error) {
    // The stock first, then the key: a retry right after this answer finds the stock on the shelf.
    await releaseNow(deps, reservationId);
    if (claim) await lapse(deps.database.db, claim).catch(warn(deps, orderId, 'give up the key'));
    throw error;
  }
}

const warn = (deps: PlaceOrderDeps, orderId: string, what: string) => (err: unknown) =>
  deps.log.warn({ err, orderId }, `could not ${what}`);

/** 503: the request took so long that its reservation was released meanwhile; a retry places the order. */
function tooSlow(orderId: string): HttpError {
  return new HttpError(
    503,
    `Placing order ${orderId} took longer than ${ABANDONED_AFTER_SECONDS} s, so its stock was given back and ` +
      'no order was stored. Retry after the Retry-After delay with the same Idempotency-Key.',
    { type: PROBLEMS.orderTimedOut, title: 'Order not placed in time', retryAfter: 1 },
  );
}

/**
 * Reserves the stock. Inventory answers "released" when the worker gave the reservation back while this
 * request was still retrying (it outlived {@link ABANDONED_AFTER_SECONDS}).
 */
async function reserve(
  inventory: InventoryClient,
  request: Parameters<typeof reserveStock>[1],
): Promise<Reservation> {
  try {
    return await reserveStock(inventory, request);
  } catch (error) {
    if (error instanceof HttpError && error.type === INVENTORY_PROBLEMS.reservationReleased)
      throw tooSlow(request.orderId);
    throw error;
  }
}

/**
 * Stores the order and its `order.placed` event in one transaction; with a key, the claim is deleted in it
 * too, so the order is stored exactly when the key is free again, and so is the reservation's open row, so
 * the order holds the stock exactly when nothing releases it. A claim taken over meanwhile (this request
 * outlived its lease) stores nothing: the request that took it over places the order.
 */
async function storeOrder(
  deps: PlaceOrderDeps,
  order: { orderId: string; input: PlaceOrderInput; reservation: Reservation; claim: Claim | undefined },
): Promise<OrderRow> {
  const { orderId, input, reservation, claim } = order;
  return deps.database.transaction(async (trx) => {
    if (claim && !(await unclaim(trx, claim))) throw inProgress(claim.key);
    if (!(await holdForOrder(trx, reservation.reservationId))) throw tooSlow(orderId);
    const row = await trx
      .insertInto('orders')
      .values({
        id: orderId,
        customer_id: input.customerId,
        status: 'PENDING',
        items: JSON.stringify(reservation.items) as never,
        total_cents: reservation.totalCents,
        idempotency_key: claim?.key ?? null,
        request_hash: claim?.requestHash ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
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
