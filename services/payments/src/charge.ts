/**
 * The (simulated) payment provider's rule, and charging an order exactly once: the inbox skips a redelivered
 * `order.placed`, and the unique `order_id` makes a second charge of the same order impossible even when the
 * event arrives twice under different ids (e.g. a re-published outbox row).
 */
import { uuidv7, type InboxMessageContext, type Outbox, type ConsumedEvent } from '@flotilla/runtime';
import { orderEvents, type paymentEvents } from '@shop/contracts';
import type { PaymentsTables } from './schema.js';

/** Charges above this many cents are declined. */
export const CHARGE_LIMIT_CENTS = 50_000;

/** Events payments consumes from the `orders` topic (its subscription filters to order.placed). */
export const consumedEvents = { 'order.placed': orderEvents['order.placed'] };

export type OrderPlacedEvent = ConsumedEvent<typeof consumedEvents>;

export function chargeHandler(outbox: Outbox<PaymentsTables, typeof paymentEvents>) {
  return async (event: OrderPlacedEvent, ctx: InboxMessageContext<PaymentsTables>): Promise<void> => {
    const { orderId, totalCents } = event.data;
    const declined = totalCents > CHARGE_LIMIT_CENTS;
    const reason = declined
      ? `charge of ${totalCents} cents declined: the limit is ${CHARGE_LIMIT_CENTS} cents`
      : null;
    const payment = await ctx.trx
      .insertInto('payments')
      .values({
        id: uuidv7(),
        order_id: orderId,
        amount_cents: totalCents,
        status: declined ? 'DECLINED' : 'COMPLETED',
        reason,
      })
      .onConflict((oc) => oc.column('order_id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!payment) {
      ctx.log.info({ orderId }, 'order already charged; not charging again');
      return;
    }
    if (payment.status === 'COMPLETED') {
      await outbox.publish(ctx.trx, 'payments', {
        type: 'payment.completed',
        data: { orderId, paymentId: payment.id, amountCents: totalCents },
      });
    } else {
      await outbox.publish(ctx.trx, 'payments', {
        type: 'payment.failed',
        data: { orderId, reason: reason!, amountCents: totalCents },
      });
    }
    ctx.log.info({ orderId, paymentId: payment.id, status: payment.status }, 'order charged');
  };
}
