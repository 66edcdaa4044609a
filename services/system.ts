import { defineSystem, defineTopic } from '@flotilla/model';
import inventory from './inventory/service.js';
import notifications from './notifications/service.js';
import orders from './orders/service.js';
import payments from './payments/service.js';

/** The shop: which services and topics exist. Everything else is derived from this. */
export const shop = defineSystem({
  name: 'shop',
  services: [orders, inventory, payments, notifications],
  topics: [
    defineTopic({
      name: 'orders',
      events: ['order.placed', 'order.paid', 'order.cancelled'],
      description: 'Order lifecycle events',
    }),
    defineTopic({
      name: 'payments',
      events: ['payment.completed', 'payment.failed'],
      description: 'Payment outcomes',
    }),
  ],
});

export default shop;
