/** Internal, read-only view of charges (peers and operators; not routed by the ingress). */
import { validate, type Database } from '@flotilla/runtime';
import type { Router } from 'express';
import { fields } from '@shop/contracts';
import { z } from 'zod';
import type { PaymentsTables } from './schema.js';

const Query = z.object({ orderId: fields.id });

export function paymentsRoutes(router: Router, database: Database<PaymentsTables>): void {
  router.get('/internal/payments', validate({ query: Query }), async (req, res) => {
    const rows = await database.db
      .selectFrom('payments')
      .selectAll()
      .where('order_id', '=', req.query.orderId)
      .orderBy('created_at')
      .execute();
    res.json({
      payments: rows.map((r) => ({
        id: r.id,
        orderId: r.order_id,
        amountCents: r.amount_cents,
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
        createdAt: new Date(r.created_at).toISOString(),
      })),
    });
  });
}
