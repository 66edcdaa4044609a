import { defineService } from '@flotilla/model';

/** inventory: the catalogue and stock. Orders reserve stock synchronously; cancellations release it. */
export default defineService({
  name: 'inventory',
  description: 'Catalogue and stock; reserves stock per order, releases it on cancellation',
  port: 8083,
  routes: ['/api/inventory'],
  consumes: [{ topic: 'orders', events: ['order.cancelled'] }],
  database: true,
});
