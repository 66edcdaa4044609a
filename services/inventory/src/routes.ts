/**
 * HTTP API. Public (through the gateway/ingress under /api/inventory): the catalogue. Internal (peers only,
 * never routed by the ingress): reserving and releasing stock for an order.
 */
import { HttpError, validate, type Database } from '@flotilla/runtime';
import type { Router } from 'express';
import { fields } from '@shop/contracts';
import { z } from 'zod';
import type { InventoryTables } from './schema.js';
import { getItem, release, reserve } from './stock.js';

const SkuParams = z.object({ sku: fields.sku });
const OrderParams = z.object({ orderId: fields.id });
const ReserveBody = z.object({ orderId: fields.id, items: fields.orderLines });

export function inventoryRoutes(router: Router, database: Database<InventoryTables>): void {
  router.get('/api/inventory/items/:sku', validate({ params: SkuParams }), async (req, res) => {
    const item = await getItem(database, req.params.sku);
    if (!item) throw new HttpError(404, `No item with SKU ${req.params.sku} in the catalogue.`);
    res.json(item);
  });

  /** Idempotent per order id: 201 when this call reserved, 200 with the same body on a repeat. */
  router.post('/internal/reservations', validate({ body: ReserveBody }), async (req, res) => {
    const { reservation, created } = await reserve(database, req.body.orderId, req.body.items);
    res.status(created ? 201 : 200).json(reservation);
  });

  /** Idempotent: releasing twice gives the stock back once. */
  router.post(
    '/internal/reservations/:orderId/release',
    validate({ params: OrderParams }),
    async (req, res) => {
      const released = await database.transaction((trx) => release(trx, req.params.orderId));
      res.json({ orderId: req.params.orderId, released });
    },
  );
}
