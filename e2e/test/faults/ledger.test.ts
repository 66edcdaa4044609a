/** The fault suite's books check finds each way of losing or repeating work (no stack needed). */
import { describe, expect, it } from '@jest/globals';
import { ledgerProblems, type Ledger } from './support/ledger.js';

const paid = { id: 'o-1', status: 'PAID', items: [{ sku: 'SKU-CHEAP', quantity: 2 }] };
const cancelled = { id: 'o-2', status: 'CANCELLED', items: [{ sku: 'SKU-LUXURY', quantity: 1 }] };
const good: Ledger = {
  orders: [paid, cancelled],
  payments: [
    { orderId: 'o-1', status: 'COMPLETED' },
    { orderId: 'o-2', status: 'DECLINED' },
  ],
  notifications: [
    { orderId: 'o-1', outcome: 'PAID' },
    { orderId: 'o-2', outcome: 'CANCELLED' },
  ],
  stock: { 'SKU-CHEAP': 8, 'SKU-LUXURY': 5 },
  unsent: { orders: 0, payments: 0 },
};
const customer = {
  accepted: new Map([
    ['o-1', paid.items],
    ['o-2', cancelled.items],
  ]),
  initialStock: { 'SKU-CHEAP': 10, 'SKU-LUXURY': 5 },
};

describe('ledgerProblems', () => {
  it('finds nothing wrong with books that add up', () => {
    expect(ledgerProblems(good, customer)).toEqual([]);
  });

  it('finds an accepted order that is not stored, and a stored one nobody was told about', () => {
    const lost = ledgerProblems({ ...good, orders: [cancelled] }, customer);
    expect(lost).toContain('order o-1 was accepted (201) but is not stored: lost');
    const phantom = { id: 'o-3', status: 'PAID', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] };
    expect(ledgerProblems({ ...good, orders: [paid, cancelled, phantom] }, customer)).toContain(
      'order o-3 (PAID) is stored but the customer was never told it was placed',
    );
  });

  it('finds an order charged twice, notified twice or with the wrong outcome, and one not final', () => {
    const twice = ledgerProblems(
      {
        ...good,
        payments: [...good.payments, { orderId: 'o-1', status: 'COMPLETED' }],
        notifications: [good.notifications[0]!, { orderId: 'o-2', outcome: 'PAID' }],
      },
      customer,
    );
    expect(twice).toEqual([
      'order o-1 is PAID with 2 charge(s) [COMPLETED, COMPLETED]; expected one COMPLETED',
      'order o-2 is CANCELLED with 1 notification(s) [PAID]; expected one CANCELLED',
    ]);
    expect(
      ledgerProblems({ ...good, orders: [{ ...paid, status: 'PENDING' }, cancelled] }, customer),
    ).toContain('order o-1 is PENDING: it never reached a final status');
  });

  it('finds leaked stock, stock given back twice, and events left in an outbox', () => {
    expect(ledgerProblems({ ...good, stock: { 'SKU-CHEAP': 7, 'SKU-LUXURY': 5 } }, customer)).toEqual([
      'stock of SKU-CHEAP: 10 at the start, now 7 available + 2 held by live orders = 9 (1 leaked)',
    ]);
    expect(ledgerProblems({ ...good, stock: { 'SKU-CHEAP': 8, 'SKU-LUXURY': 6 } }, customer)).toEqual([
      'stock of SKU-LUXURY: 5 at the start, now 6 available + 0 held by live orders = 6 (1 too many)',
    ]);
    expect(ledgerProblems({ ...good, unsent: { orders: 2, payments: 0 } }, customer)).toEqual([
      'orders still has 2 event(s) in its outbox, not published',
    ]);
  });
});
