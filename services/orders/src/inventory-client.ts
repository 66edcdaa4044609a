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
  type CallOptions,
  type PeerClient,
  type ProblemDetails,
} from '@flotilla/runtime';
import { z } from 'zod';

const Reservation = z.object({
  reservationId: z.string(),
  orderId: z.string(),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), priceCents: z.number().int() })),
  totalCents: z.number().int(),
});
export type Reservation = z.infer<typeof Reservation>;

export const PROBLEMS = {
  inventoryUnavailable: 'urn:shop:problem:inventory-unavailable',
  /** Inventory's answer when a reservation id names a reservation released (or refused in advance) before. */
  reservationReleased: 'urn:shop:problem:reservation-released',
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
export async function reserveStock(inventory: PeerClient, request: ReservationRequest): Promise<Reservation> {
  try {
    const { body } = await inventory.post('/internal/reservations', request, {
      idempotencyKey: request.reservationId,
      schema: Reservation,
      route: '/internal/reservations',
    });
    return body;
  } catch (error) {
    throw toHttpError(error);
  }
}

/**
 * Gives the stock of reservation `reservationId` back. Idempotent, and safe for an id inventory never saw
 * (it then refuses a late reserve of the id). Rejects with the kit client's error when inventory did not
 * confirm; the caller retries (see `open-reservations.ts`).
 */
export async function releaseStock(
  inventory: PeerClient,
  reservationId: string,
  options: Pick<CallOptions, 'signal' | 'timeoutMs'> = {},
): Promise<void> {
  await inventory.post(`/internal/reservations/${encodeURIComponent(reservationId)}/release`, undefined, {
    ...options,
    idempotencyKey: `release-${reservationId}`,
    route: '/internal/reservations/{reservationId}/release',
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
