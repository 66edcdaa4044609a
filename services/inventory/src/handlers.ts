/** Event handlers: stock of a cancelled order goes back on the shelf. */
import type { ConsumedEvent, InboxMessageContext } from '@flotilla/runtime';
import { orderEvents } from '@shop/contracts';
import type { InventoryTables } from './schema.js';
import { releaseCancelled } from './stock.js';

/** Events inventory consumes from the `orders` topic (its subscription filters to order.cancelled). */
export const consumedEvents = { 'order.cancelled': orderEvents['order.cancelled'] };

export async function onOrderCancelled(
  event: ConsumedEvent<typeof consumedEvents>,
  ctx: InboxMessageContext<InventoryTables>,
): Promise<void> {
  const released = await releaseCancelled(ctx.trx, event.data.orderId);
  ctx.log.info({ orderId: event.data.orderId, released }, released ? 'stock released' : 'nothing to release');
}
