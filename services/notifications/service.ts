import { defineService } from '@flotilla/model';

/** notifications: tells the customer how their order ended (simulated e-mail), once per outcome. */
export default defineService({
  name: 'notifications',
  description: 'One notification per order outcome (simulated e-mail)',
  port: 8084,
  routes: ['/api/notifications'],
  consumes: [{ topic: 'orders', events: ['order.paid', 'order.cancelled'] }],
  database: true,
  scaling: { kind: 'queue', messagesPerReplica: 50 },
});
