/**
 * Orders' side of inventory's internal reservation API. Maps the kit client's typed errors to what the
 * orders API answers: unknown SKU 422, not enough stock 409, inventory unavailable 503 with Retry-After.
 */
import {
  BulkheadRejectedError,
  CircuitOpenError,
  HttpError,
  PeerClientError,
  PeerServerError,
  PeerTimeoutError,
  PeerUnavailableError,
  type PeerClient,
  type ProblemDetails,
} from '@flotilla/runtime';
import { z } from 'zod';

const Reservation = z.object({
  orderId: z.string(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), priceCents: z.number().int() })),
  totalCents: z.number().int(),
});
export type Reservation = z.infer<typeof Reservation>;

export const PROBLEMS = {
  inventoryUnavailable: 'urn:shop:problem:inventory-unavailable',
  /** Inventory's answer when an order id already has a reservation for other items (passed on as is). */
  reservationMismatch: 'urn:shop:problem:reservation-mismatch',
} as const;

/** Seconds a client should wait before retrying when inventory is unavailable. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Reserves stock for `orderId`. Safe to retry (the order id is the idempotency key, and inventory reserves
 * once per order), so the kit client retries timeouts, connection errors and 502/503/504. A reservation
 * released by `releaseStock` is taken again (or refused with 409 when the stock is gone).
 */
export async function reserveStock(
  inventory: PeerClient,
  orderId: string,
  items: readonly { sku: string; quantity: number }[],
): Promise<Reservation> {
  try {
    const { body } = await inventory.post(
      '/internal/reservations',
      { orderId, items },
      { idempotencyKey: orderId, schema: Reservation, route: '/internal/reservations' },
    );
    return body;
  } catch (error) {
    throw toHttpError(error);
  }
}

/** Gives back the stock of a reservation whose order could not be stored. Idempotent; best effort. */
export async function releaseStock(inventory: PeerClient, orderId: string): Promise<void> {
  await inventory.post(`/internal/reservations/${encodeURIComponent(orderId)}/release`, undefined, {
    idempotencyKey: `release-${orderId}`,
    route: '/internal/reservations/{orderId}/release',
  });
}

function toHttpError(error: unknown): unknown {
  if (error instanceof PeerClientError && (error.status === 409 || error.status === 422)) {
    const problem: ProblemDetails = error.problem ?? {};
    const extensions = Object.fromEntries(
      Object.entries(problem).filter(
        ([k]) => !['type', 'title', 'status', 'detail', 'instance', 'requestId'].includes(k),
      ),
    );
    return new HttpError(error.status, typeof problem.detail === 'string' ? problem.detail : error.message, {
      ...(typeof problem.type === 'string' ? { type: problem.type } : {}),
      ...(typeof problem.title === 'string' ? { title: problem.title } : {}),
      extensions,
    });
  }
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
