/**
 * Event handlers: `order.placed` confirms the order's reservations (they no longer expire); the stock of an
 * `order.cancelled` order goes back on the shelf.
 */
import type { ConsumedEvent, InboxMessageContext } from '@flotilla/runtime';
import { orderEvents } from '@shop/contracts';
import { confirmOrder, releaseCancelled } from './reservations.js';
import type { InventoryTables } from './schema.js';

/** Events inventory consumes from the `orders` topic (its subscription filters to these). */
export const consumedEvents = {
  'order.placed': orderEvents['order.placed'],
  'order.cancelled': orderEvents['order.cancelled'],
};

export async function onOrderEvent(
  event: ConsumedEvent<typeof consumedEvents>,
  ctx: InboxMessageContext<InventoryTables>,
): Promise<void> {
  const { orderId } = event.data;
  if (event.type === 'order.placed') {
    const confirmed = await confirmOrder(ctx.trx, orderId);
    ctx.log.info({ orderId, confirmed }, confirmed > 0 ? 'reservation confirmed' : 'nothing to confirm');
    return;
  }
  const released = await releaseCancelled(ctx.trx, orderId);
  ctx.log.info({ orderId, released }, released ? 'stock released' : 'nothing to release');
}
