/** Tells the customer how their order ended (simulated e-mail: the message is recorded, not sent). */
import { uuidv7, type ConsumedEvent, type InboxMessageContext } from '@flotilla/runtime';
import { orderEvents } from '@shop/contracts';
import type { NotificationsTables, Outcome } from './schema.js';

/** The events notifications consumes from the `orders` topic. */
export const outcomeEvents = {
  'order.paid': orderEvents['order.paid'],
  'order.cancelled': orderEvents['order.cancelled'],
};

export async function notifyOutcome(
  event: ConsumedEvent<typeof outcomeEvents>,
  ctx: InboxMessageContext<NotificationsTables>,
): Promise<void> {
  const outcome: Outcome = event.type === 'order.paid' ? 'PAID' : 'CANCELLED';
  const message =
    event.type === 'order.paid'
      ? `Your order ${event.data.orderId} is paid (${(event.data.totalCents / 100).toFixed(2)}). Thank you!`
      : `Your order ${event.data.orderId} was cancelled: ${event.data.reason}.`;
  // The unique (order_id, outcome) keeps it at one per outcome even if the event arrives under two ids.
  const inserted = await ctx.trx
    .insertInto('notifications')
    .values({ id: uuidv7(), order_id: event.data.orderId, outcome, channel: 'email', message })
    .onConflict((oc) => oc.columns(['order_id', 'outcome']).doNothing())
    .returning('id')
    .executeTakeFirst();
  ctx.log.info({ orderId: event.data.orderId, outcome, sent: inserted !== undefined }, 'notification');
}
