/** The public notifications API (routed by the gateway/ingress under /api/notifications). */
import { validate, type Database } from '@flotilla/runtime';
import type { Router } from 'express';
import { fields } from '@shop/contracts';
import { z } from 'zod';
import type { NotificationsTables } from './schema.js';

const Query = z.object({ orderId: fields.id });

export function notificationsRoutes(router: Router, database: Database<NotificationsTables>): void {
  router.get('/api/notifications', validate({ query: Query }), async (req, res) => {
    const rows = await database.db
      .selectFrom('notifications')
      .selectAll()
      .where('order_id', '=', req.query.orderId)
      .orderBy('created_at')
      .execute();
    res.json({
      notifications: rows.map((r) => ({
        id: r.id,
        orderId: r.order_id,
        outcome: r.outcome,
        channel: r.channel,
        message: r.message,
        createdAt: new Date(r.created_at).toISOString(),
      })),
    });
  });
}
