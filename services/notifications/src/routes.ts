/** The public notifications API (routed by the gateway/ingress under /api/notifications). */
import type { ApiHandlers, Database } from '@flotilla/runtime';
import type { api } from './api.js';
import type { NotificationsTables } from './schema.js';

export function notificationsHandlers(
  database: Database<NotificationsTables>,
): ApiHandlers<typeof api.routes> {
  return {
    listNotifications: async ({ query }) => {
      const rows = await database.db
        .selectFrom('notifications')
        .selectAll()
        .where('order_id', '=', query.orderId)
        .orderBy('created_at')
        .execute();
      const notifications = rows.map((r) => ({
        id: r.id,
        orderId: r.order_id,
        outcome: r.outcome,
        channel: r.channel,
        message: r.message,
        createdAt: new Date(r.created_at).toISOString(),
      }));
      return { status: 200, body: { notifications } };
    },
  };
}
