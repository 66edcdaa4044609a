import { defineService } from '@flotilla/model';

/**
 * inventory: the catalogue and stock. Orders reserve stock synchronously; a placed order confirms its
 * reservation, a cancelled one releases it.
 */
export default defineService({
  name: 'inventory',
  description: 'Catalogue and stock; reserves stock per order, releases it on cancellation or expiry',
  port: 8083,
  routes: ['/api/inventory'],
  consumes: [{ topic: 'orders', events: ['order.placed', 'order.cancelled'] }],
  database: true,
});
