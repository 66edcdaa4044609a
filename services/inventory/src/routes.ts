/**
 * HTTP API. Public (through the gateway/ingress under /api/inventory): the catalogue. Internal (peers only,
 * never routed by the ingress): reserving and releasing stock (see `reservations.ts`).
 */
import { HttpError, validate, type Database } from '@flotilla/runtime';
import type { Router } from 'express';
import { fields } from '@shop/contracts';
import { z } from 'zod';
import { release, reserve } from './reservations.js';
import type { InventoryTables } from './schema.js';
import { getItem } from './stock.js';

const SkuParams = z.object({ sku: fields.sku });
const ReservationParams = z.object({ reservationId: fields.id });
const ReserveBody = z.object({ reservationId: fields.id, orderId: fields.id, items: fields.orderLines });

export function inventoryRoutes(router: Router, database: Database<InventoryTables>): void {
  router.get('/api/inventory/items/:sku', validate({ params: SkuParams }), async (req, res) => {
    const item = await getItem(database, req.params.sku);
    if (!item) throw new HttpError(404, `No item with SKU ${req.params.sku} in the catalogue.`);
    res.json(item);
  });

  /** Idempotent per reservation id: 201 when this call reserved, 200 with the same body on a repeat. */
  router.post('/internal/reservations', validate({ body: ReserveBody }), async (req, res) => {
    const { reservation, created } = await reserve(database, req.body);
    res.status(created ? 201 : 200).json(reservation);
  });

  /** Idempotent: gives the stock back once; for an id never reserved, refuses it in advance (a tombstone). */
  router.post(
    '/internal/reservations/:reservationId/release',
    validate({ params: ReservationParams }),
    async (req, res) => {
      const released = await release(database, req.params.reservationId);
      res.json({ reservationId: req.params.reservationId, released });
    },
  );
}
