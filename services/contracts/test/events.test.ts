import { describe, expect, it } from '@jest/globals';
import { fields, orderEvents, paymentEvents, shopEvents, topicEvents } from '../src/index.js';

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

  // PostgreSQL's text cannot hold NUL, and a lone surrogate has no UTF-8 encoding (issue 11, defect 2).
  it.each([
    ['a NUL', 'SKU\u0000X'],
    ['a lone high surrogate', 'SKU-\ud800'],
    ['a lone low surrogate', '\udfffSKU'],
    ['two halves in the wrong order', 'SKU-\udc00\ud800'],
  ])('rejects a string field with %s in every schema, naming the field', (_name, bad) => {
    const line = { sku: bad, quantity: 1 };
    expect(fields.sku.safeParse(bad).success).toBe(false);
    expect(fields.id.safeParse(bad).success).toBe(false);
    expect(fields.text().safeParse(bad).success).toBe(false);
    expect(fields.orderLines.safeParse([line]).error?.issues.map((i) => i.path.join('.'))).toEqual(['0.sku']);
    const cancelled = orderEvents['order.cancelled'].safeParse({ orderId: 'o', reason: bad, items: [line] });
    expect(cancelled.error?.issues.map((i) => i.path.join('.'))).toEqual(['reason', 'items.0.sku']);
    expect(cancelled.error?.issues[0]?.message).toContain('NUL');
  });

  it('accepts characters outside the BMP (a surrogate pair is one character)', () => {
    expect(fields.sku.safeParse('SKU-\ud83d\ude00').success).toBe(true);
    expect(fields.id.safeParse('\u{1F600}\u00e9').success).toBe(true);
  });
});
