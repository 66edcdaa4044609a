/** The payments API, declared once: served by payments (`routes.ts`), published in its OpenAPI document. */
import { defineApi } from '@flotilla/runtime';
import { fields } from '@shop/contracts';
import { z } from 'zod';

/** One charge of an order, as the API shows it. */
export const Payment = z.object({
  id: fields.id,
  orderId: fields.id,
  amountCents: z.number().int().min(0),
  status: z.enum(['COMPLETED', 'DECLINED']),
  reason: fields.text().optional().describe('Why the charge was declined (DECLINED only)'),
  createdAt: z.iso.datetime(),
});
export type Payment = z.infer<typeof Payment>;

export const api = defineApi({
  service: 'payments',
  description: 'Charges each placed order exactly once (simulated). Internal: peers and operators only.',
  routes: {
    listPayments: {
      method: 'GET',
      path: '/internal/payments',
      summary: 'The charges of an order (at most one), oldest first',
      query: z.object({ orderId: fields.id.describe('The order whose charges to list') }),
      responses: { 200: z.object({ payments: z.array(Payment) }) },
    },
  },
});
