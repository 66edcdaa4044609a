/** The public orders API (declared in `api.ts`; routed by the gateway/ingress under /api/orders). */
import { HttpError, type ApiHandlers } from '@flotilla/runtime';
import type { api } from './api.js';
import { findOrder, toOrder } from './order.js';
import { placeOrder, type PlaceOrderDeps } from './place-order.js';

export function ordersHandlers(deps: PlaceOrderDeps): ApiHandlers<typeof api.routes> {
  return {
    placeOrder: async ({ body, headers }) => {
      const { order, replayed } = await placeOrder(deps, body, headers['idempotency-key']);
      return {
        status: 201,
        body: order,
        headers: {
          location: `/api/orders/${encodeURIComponent(order.id)}`,
          ...(replayed ? { 'idempotent-replayed': 'true' as const } : {}),
        },
      };
    },
    getOrder: async ({ params }) => {
      const row = await findOrder(deps.database.db, params.id);
      if (!row) throw new HttpError(404, `No order with id ${params.id}.`);
      return { status: 200, body: toOrder(row) };
    },
  };
}
