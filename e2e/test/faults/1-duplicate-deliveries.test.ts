/**
 * Scenario 1: every event delivered twice. The emulator repeats every message sent or published (copies
 * up to 1.5 s apart, so some are handled side by side and some one after the other); every order is still
 * charged once, notified once and ends in one status.
 */
import { describe, expect, test } from '@jest/globals';
import { mixedOrder, useFaultShop } from './support/shop.js';
import { inParallel } from './support/util.js';

const ORDERS = 40;

describe('S1: every event delivered twice', () => {
  const shop = useFaultShop({ name: 'duplicate-deliveries' });

  test(`${ORDERS} orders with every event in two copies: one charge, one notification, one final status each`, async () => {
    shop().stack.emulator.duplicateDeliveries({ maxDelayMs: 1500 });
    await inParallel(
      Array.from({ length: ORDERS }, (_, i) => i),
      4,
      (i) => shop().customer.placeUntilAccepted(mixedOrder(i)),
    );
    const problems = await shop().settle();
    shop().stack.emulator.duplicateDeliveries(false);
    // Each order is three events at least (placed, the payment's outcome, the order's outcome): all repeated.
    expect(shop().stack.emulator.duplicatedMessages).toBeGreaterThanOrEqual(3 * ORDERS);
    expect([...problems, ...(await shop().check())]).toEqual([]);
  }, 300_000);
});
