/**
 * HTTP API (declared in `api.ts`). Public (through the gateway/ingress under /api/inventory): the catalogue.
 * Internal (peers only, never routed by the ingress): reserving and releasing stock (see `reservations.ts`).
 */
import { HttpError, type ApiHandlers, type Database } from '@flotilla/runtime';
import type { api } from './api.js';
import { release, reserve } from './reservations.js';
import type { InventoryTables } from './schema.js';
import { getItem } from './stock.js';

export function inventoryHandlers(database: Database<InventoryTables>): ApiHandlers<typeof api.routes> {
  return {
    getItem: async ({ params }) => {
      const item = await getItem(database, params.sku);
      if (!item) throw new HttpError(404, `No item with SKU ${params.sku} in the catalogue.`);
      return { status: 200, body: item };
    },
    /** Idempotent per reservation id: 201 when this call reserved, 200 with the same body on a repeat. */
    reserve: async ({ body }) => {
      const { reservation, created } = await reserve(database, body);
      return { status: created ? 201 : 200, body: reservation };
    },
    /** Idempotent: gives the stock back once; for an id never reserved, refuses it in advance (a tombstone). */
    release: async ({ params }) => {
      const released = await release(database, params.reservationId);
      return { status: 200, body: { reservationId: params.reservationId, released } };
    },
  };
}
