/** The public orders API (routed by the gateway/ingress under /api/orders). */
import { HttpError, ValidationError, validate } from '@flotilla/runtime';
import type { Router } from 'express';
import { fields } from '@shop/contracts';
import { z } from 'zod';
import { findOrder, toOrder } from './order.js';
import { placeOrder, type PlaceOrderDeps } from './place-order.js';

/** Surrounding spaces a client sent are dropped before the contract's bounds apply. */
const trimmed = <S extends z.ZodType<string, string>>(schema: S) => z.string().trim().pipe(schema);
// The bounds are the events' (an accepted order always fits order.placed) and inventory's.
const PlaceOrderBody = z.object({
  customerId: trimmed(fields.id),
  items: fields.orderLinesOf(trimmed(fields.sku)),
});
const OrderParams = z.object({ id: fields.id });
/** Printable ASCII, as the Idempotency-Key draft allows for its string value. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function ordersRoutes(router: Router, deps: PlaceOrderDeps): void {
  router.post('/api/orders', validate({ body: PlaceOrderBody }), async (req, res) => {
    const key = req.get('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new ValidationError([
        {
          location: 'headers',
          path: 'idempotency-key',
          message: 'expected 1-255 printable ASCII characters without spaces, e.g. a UUID',
        },
      ]);
    }
    const { order, replayed } = await placeOrder(deps, req.body, key);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).location(`/api/orders/${order.id}`).json(order);
  });

  router.get('/api/orders/:id', validate({ params: OrderParams }), async (req, res) => {
    const row = await findOrder(deps.database.db, req.params.id);
    if (!row) throw new HttpError(404, `No order with id ${req.params.id}.`);
    res.json(toOrder(row));
  });
}
