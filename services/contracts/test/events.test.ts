import { describe, expect, it } from '@jest/globals';
import { orderEvents, paymentEvents, shopEvents, topicEvents } from '../src/index.js';

const placed = {
  orderId: 'o-1',
  customerId: 'c-1',
  items: [{ sku: 'SKU-CHEAP', quantity: 2, priceCents: 500 }],
  totalCents: 1000,
};

describe('shop event contracts', () => {
  it('accepts a valid payload for every event type', () => {
    const valid: Record<keyof typeof shopEvents, unknown> = {
      'order.placed': placed,
      'order.paid': { orderId: 'o-1', paymentId: 'p-1', totalCents: 1000 },
      'order.cancelled': {
        orderId: 'o-1',
        reason: 'payment declined',
        items: [{ sku: 'SKU-LUXURY', quantity: 1 }],
      },
      'payment.completed': { orderId: 'o-1', paymentId: 'p-1', amountCents: 1000 },
      'payment.failed': { orderId: 'o-1', reason: 'declined: above limit', amountCents: 75_000 },
    };
    for (const [type, data] of Object.entries(valid)) {
      expect({ type, ...shopEvents[type as keyof typeof shopEvents].safeParse(data) }).toMatchObject({
        type,
        success: true,
      });
    }
  });

  it.each([
    ['missing customerId', { ...placed, customerId: undefined }, 'customerId'],
    ['no items', { ...placed, items: [] }, 'items'],
    [
      'quantity 0',
      { ...placed, items: [{ sku: 'SKU-CHEAP', quantity: 0, priceCents: 500 }] },
      'items.0.quantity',
    ],
    ['fractional cents', { ...placed, totalCents: 10.5 }, 'totalCents'],
    [
      'negative price',
      { ...placed, items: [{ sku: 'SKU-CHEAP', quantity: 1, priceCents: -1 }] },
      'items.0.priceCents',
    ],
  ])('rejects order.placed with %s and names the field', (_name, data, path) => {
    const result = orderEvents['order.placed'].safeParse(data);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('rejects payment events with a wrong amount type', () => {
    expect(
      paymentEvents['payment.completed'].safeParse({ orderId: 'o', paymentId: 'p', amountCents: '1000' })
        .success,
    ).toBe(false);
    expect(paymentEvents['payment.failed'].safeParse({ orderId: 'o', amountCents: 1 }).success).toBe(false);
  });

  it('groups event types by topic with no type on two topics', () => {
    expect(Object.keys(topicEvents.orders)).toEqual(['order.placed', 'order.paid', 'order.cancelled']);
    expect(Object.keys(topicEvents.payments)).toEqual(['payment.completed', 'payment.failed']);
    expect(Object.keys(shopEvents)).toHaveLength(5);
  });
});
