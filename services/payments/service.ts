import { defineService } from '@flotilla/model';

/** payments: charges each placed order exactly once (simulated) and reports the outcome. */
export default defineService({
  name: 'payments',
  description: 'Charges placed orders exactly once (simulated)',
  port: 8082,
  publishes: ['payments'],
  consumes: [{ topic: 'orders', events: ['order.placed'] }],
  database: true,
  scaling: { kind: 'queue', messagesPerReplica: 20 },
});
