import { defineService } from '@flotilla/model';

/** orders: the public ordering API. Reserves stock in inventory, then follows the payment outcome. */
export default defineService({
  name: 'orders',
  description: 'Public ordering API; owns orders and their status',
  port: 8081,
  routes: ['/api/orders'],
  calls: ['inventory'],
  publishes: ['orders'],
  consumes: [{ topic: 'payments', events: ['payment.completed', 'payment.failed'] }],
  database: true,
});
