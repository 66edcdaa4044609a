/**
 * Payment outcomes: `payment.completed` makes a PENDING order PAID and publishes `order.paid`;
 * `payment.failed` makes it CANCELLED and publishes `order.cancelled` (inventory then releases the stock).
 * Both run in the inbox transaction, so the status change, the outgoing event and "processed" commit together.
 */
import {
  NonRetryableError,
  type ConsumedEvent,
  type InboxMessageContext,
  type Outbox,
} from '@flotilla/runtime';
import type { orderEvents, paymentEvents } from '@shop/contracts';
import { sql } from 'kysely';
import type { OrdersTables } from './schema.js';

export type PaymentEvent = ConsumedEvent<typeof paymentEvents>;

export function paymentOutcomeHandler(outbox: Outbox<OrdersTables, typeof orderEvents>) {
  return async (event: PaymentEvent, ctx: InboxMessageContext<OrdersTables>): Promise<void> => {
    const { trx } = ctx;
    const paid = event.type === 'payment.completed';
    const updated = await trx
      .updateTable('orders')
      .set({
        status: paid ? 'PAID' : 'CANCELLED',
        status_reason: paid ? null : event.data.reason,
        updated_at: sql`now()`,
      })
      .where('id', '=', event.data.orderId)
      .where('status', '=', 'PENDING')
      .returningAll()
      .executeTakeFirst();
    if (!updated) {
      const order = await trx
        .selectFrom('orders')
        .select('status')
        .where('id', '=', event.data.orderId)
        .executeTakeFirst();
      if (!order) {
        throw new NonRetryableError(
          `${event.type} for order ${event.data.orderId}, which does not exist in orders; the event belongs to ` +
            'another system or database.',
        );
      }
      ctx.log.warn(
        { orderId: event.data.orderId, status: order.status },
        `${event.type} ignored: order is no longer PENDING`,
      );
      return;
    }
    if (event.type === 'payment.completed') {
      await outbox.publish(trx, 'orders', {
        type: 'order.paid',
        data: { orderId: updated.id, paymentId: event.data.paymentId, totalCents: updated.total_cents },
      });
    } else {
      await outbox.publish(trx, 'orders', {
        type: 'order.cancelled',
        data: {
          orderId: updated.id,
          reason: event.data.reason,
          items: updated.items.map((i) => ({ sku: i.sku, quantity: i.quantity })),
        },
      });
    }
  };
}
