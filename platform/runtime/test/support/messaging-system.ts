/** A small system and its event schemas for the messaging tests. */
import { defineService, defineSystem, defineTopic } from '@flotilla/model';
import { z } from 'zod';

export const testSystem = defineSystem({
  name: 'msg',
  topics: [defineTopic({ name: 'orders', events: ['order.placed', 'order.paid'] })],
  services: [
    defineService({
      name: 'billing',
      port: 9001,
      publishes: ['orders'],
      sends: [{ service: 'worker', queue: 'jobs' }],
    }),
    defineService({ name: 'shipping', port: 9002, consumes: [{ topic: 'orders', events: ['order.paid'] }] }),
    defineService({ name: 'audit', port: 9003, consumes: [{ topic: 'orders' }] }),
    defineService({
      name: 'worker',
      port: 9004,
      consumes: [{ queue: 'jobs', retryWindowMinutes: 1, visibilityTimeoutSeconds: 2 }],
    }),
  ],
});

export const schemas = {
  'order.placed': z.object({ orderId: z.string(), total: z.number().nonnegative() }),
  'order.paid': z.object({ orderId: z.string() }),
  'job.run': z.object({ name: z.string(), ms: z.number().int().nonnegative().default(0) }),
};
