/** The notifications API, declared once: served by notifications (`routes.ts`), public under /api/notifications. */
import { defineApi } from '@flotilla/runtime';
import { fields } from '@shop/contracts';
import { z } from 'zod';

/** One notification sent to a customer, as the API shows it. */
export const Notification = z.object({
  id: fields.id,
  orderId: fields.id,
  outcome: z.enum(['PAID', 'CANCELLED']),
  channel: z.literal('email'),
  message: fields.text(),
  createdAt: z.iso.datetime(),
});
export type Notification = z.infer<typeof Notification>;

export const api = defineApi({
  service: 'notifications',
  description: 'One notification per order outcome (simulated e-mail).',
  routes: {
    listNotifications: {
      method: 'GET',
      path: '/api/notifications',
      summary: 'The notifications sent about an order, oldest first',
      query: z.object({ orderId: fields.id.describe('The order whose notifications to list') }),
      responses: { 200: z.object({ notifications: z.array(Notification) }) },
    },
  },
});
