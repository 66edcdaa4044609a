/**
 * The inventory API, declared once: served by inventory (`routes.ts`), typed for its callers (orders imports
 * it as `@shop/inventory/api`), published in its OpenAPI document. Public under /api/inventory: the
 * catalogue. Internal (peers only, never routed by the front door): reserving and releasing stock.
 */
import { defineApi, problem } from '@flotilla/runtime';
import { fields } from '@shop/contracts';
import { z } from 'zod';

/** Money in cents: a non-negative integer. */
const cents = z.number().int().min(0);

/** A catalogue item with its stock. */
export const Item = z.object({
  sku: fields.sku,
  name: fields.text(),
  priceCents: cents,
  available: z.number().int().min(0).describe('Units on the shelf now'),
});

/** One line of a reservation, at the price it was reserved at. */
export const ReservationLine = z.object({
  sku: fields.sku,
  quantity: z.number().int().min(1),
  priceCents: cents,
});

/** A reservation of stock for an order. */
export const Reservation = z.object({
  reservationId: fields.id,
  orderId: fields.id,
  items: z.array(ReservationLine),
  totalCents: cents,
});
export type Reservation = z.infer<typeof Reservation>;

/** Problem types of inventory's answers (the `type` of its problem documents). */
export const PROBLEMS = {
  unknownSku: 'urn:shop:problem:unknown-sku',
  insufficientStock: 'urn:shop:problem:insufficient-stock',
  reservationMismatch: 'urn:shop:problem:reservation-mismatch',
  reservationReleased: 'urn:shop:problem:reservation-released',
} as const;

export const api = defineApi({
  service: 'inventory',
  description:
    'The catalogue and its stock. Orders reserve stock synchronously under a reservation id of their own; ' +
    'a reservation is released when its order is not stored or is cancelled.',
  routes: {
    getItem: {
      method: 'GET',
      path: '/api/inventory/items/:sku',
      summary: 'A catalogue item and the units available',
      tags: ['catalogue'],
      params: z.object({ sku: fields.sku.describe('The stock-keeping unit, e.g. SKU-CHEAP') }),
      responses: { 200: Item, 404: problem('No item with this SKU in the catalogue') },
    },
    reserve: {
      method: 'POST',
      path: '/internal/reservations',
      summary: 'Reserve stock for an order (idempotent per reservation id)',
      description:
        'Takes the stock of every line, or none. A repeat with the same reservation id, order and lines ' +
        'answers 200 with the same reservation and takes nothing.',
      tags: ['reservations'],
      body: z.object({
        reservationId: fields.id.describe('Chosen by the caller before its first attempt'),
        orderId: fields.id,
        items: fields.orderLines,
      }),
      responses: {
        200: { description: 'A repeat: the reservation this id already names', body: Reservation },
        201: {
          description: 'Reserved: this call took the stock',
          body: Reservation,
          links: {
            release: {
              operationId: 'release',
              parameters: { reservationId: '$response.body#/reservationId' },
            },
          },
        },
        409: problem(
          'Not enough stock of a SKU (`urn:shop:problem:insufficient-stock`), or the id names a released ' +
            'reservation (`urn:shop:problem:reservation-released`): reserve under a new id',
        ),
        422: problem(
          'A SKU is not in the catalogue (`urn:shop:problem:unknown-sku`), or the id names a reservation of ' +
            'another order or other items (`urn:shop:problem:reservation-mismatch`)',
        ),
      },
    },
    release: {
      method: 'POST',
      path: '/internal/reservations/:reservationId/release',
      summary: 'Give the stock of a reservation back (idempotent)',
      description:
        'For an id never reserved, leaves a tombstone: a reserve of it that arrives later takes nothing.',
      tags: ['reservations'],
      params: z.object({ reservationId: fields.id }),
      responses: {
        200: z.object({
          reservationId: fields.id,
          released: z.boolean().describe('Whether this call gave stock back'),
        }),
      },
    },
  },
});
