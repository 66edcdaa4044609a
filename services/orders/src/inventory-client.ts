/**
 * Orders' side of inventory's internal reservation API, through the client typed from inventory's own
 * declaration (`@shop/inventory/api`): a call inventory does not declare, or a body it does not take, does not
 * compile. Maps its answers to what the orders API answers: unknown SKU 422, not enough stock 409 (inventory's
 * problem passed on), inventory unavailable 503 with Retry-After.
 */
import {
  BulkheadRejectedError,
  CircuitOpenError,
  HttpError,
  PeerClientError,
  PeerServerError,
  PeerTimeoutError,
  PeerUnavailableError,
  type ApiCallOptions,
  type ApiClient,
} from '@flotilla/runtime';
import type { api as inventoryApi, Reservation } from '@shop/inventory/api';

export { PROBLEMS as INVENTORY_PROBLEMS, type Reservation } from '@shop/inventory/api';

/** The typed client of inventory (`clients.client('inventory', api)`). */
export type InventoryClient = ApiClient<typeof inventoryApi.routes>;

export const PROBLEMS = {
  inventoryUnavailable: 'urn:shop:problem:inventory-unavailable',
} as const;

/** Seconds a client should wait before retrying when inventory is unavailable. */
const RETRY_AFTER_SECONDS = 5;

/** What orders asks inventory to reserve: `reservationId` is chosen once, before the first attempt. */
export interface ReservationRequest {
  readonly reservationId: string;
  readonly orderId: string;
  readonly items: readonly { sku: string; quantity: number }[];
}

/**
 * Reserves stock under `request.reservationId`. Safe to retry (inventory treats a repeat of the id with the
 * same order and items as the same reservation), so the kit client retries timeouts, connection errors and
 * 502/503/504. A reservation released before (`releaseStock`) is never taken again: 409 reservation-released.
 */
export async function reserveStock(
  inventory: InventoryClient,
  request: ReservationRequest,
): Promise<Reservation> {
  let answer: Awaited<ReturnType<InventoryClient['reserve']>>;
  try {
    answer = await inventory.reserve(
      { body: { ...request, items: [...request.items] } },
      { idempotencyKey: request.reservationId },
    );
  } catch (error) {
    throw unavailable(error);
  }
  switch (answer.status) {
    case 200:
    case 201:
      return answer.body;
    case 409:
    case 422: {
      // Inventory's problem, passed on as is: its type, title, detail and extensions (skus, available ...).
      const {
        type,
        title,
        status,
        detail,
        instance: _instance,
        requestId: _requestId,
        ...extensions
      } = answer.body;
      throw new HttpError(status, detail, { type, title, extensions });
    }
  }
}

/**
 * Gives the stock of reservation `reservationId` back. Idempotent, and safe for an id inventory never saw
 * (it then refuses a late reserve of the id). Rejects with the kit client's error when inventory did not
 * confirm; the caller retries (see `open-reservations.ts`).
 */
export async function releaseStock(
  inventory: InventoryClient,
  reservationId: string,
  options: Pick<ApiCallOptions, 'signal' | 'timeoutMs'> = {},
): Promise<void> {
  await inventory.release(
    { params: { reservationId } },
    { ...options, idempotencyKey: `release-${reservationId}` },
  );
}

/** The 503 for a call that got no answer of inventory's API (down, slow, failing, or refusing the load). */
function unavailable(error: unknown): unknown {
  if (
    error instanceof PeerTimeoutError ||
    error instanceof CircuitOpenError ||
    error instanceof PeerUnavailableError ||
    error instanceof PeerServerError ||
    error instanceof BulkheadRejectedError ||
    (error instanceof PeerClientError && error.status === 429)
  ) {
    return new HttpError(
      503,
      'Inventory is unavailable, so stock cannot be reserved and no order was placed. Retry after the ' +
        'Retry-After delay with the same Idempotency-Key.',
      {
        type: PROBLEMS.inventoryUnavailable,
        title: 'Inventory unavailable',
        retryAfter: RETRY_AFTER_SECONDS,
        cause: error,
      },
    );
  }
  return error;
}
