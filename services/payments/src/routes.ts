/** Internal, read-only view of charges (peers and operators; not routed by the ingress). */
import type { ApiHandlers, Database } from '@flotilla/runtime';
import type { api } from './api.js';
import type { PaymentsTables } from './schema.js';

export function paymentsHandlers(database: Database<PaymentsTables>): ApiHandlers<typeof api.routes> {
  return {
    listPayments: async ({ query }) => {
      const rows = await database.db
        .selectFrom('payments')
        .selectAll()
        .where('order_id', '=', query.orderId)
        .orderBy('created_at')
        .execute();
      const payments = rows.map((r) => ({
        id: r.id,
        orderId: r.order_id,
        amountCents: r.amount_cents,
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
        createdAt: new Date(r.created_at).toISOString(),
      }));
      return { status: 200, body: { payments } };
    },
  };
}
