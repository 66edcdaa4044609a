/**
 * Scenario 2: processes killed in the middle of a burst of 200 orders. orders (which owns its outbox) is
 * SIGKILLed a quarter in, payments once orders is back; the stack restarts both. The customer retries as
 * the API asks (same Idempotency-Key and body), so every order is accepted once; every one reaches a final
 * status, is charged and notified once, and no message ends in a dead-letter queue.
 */
import { describe, expect, test } from '@jest/globals';
import { mixedOrder, useFaultShop } from './support/shop.js';
import { inParallel } from './support/util.js';

const ORDERS = 200;

describe('S2: SIGKILL of orders and of payments in a burst', () => {
  const shop = useFaultShop({ name: 'sigkill-burst' });

  test(`${ORDERS} orders; orders killed at 50 accepted, payments at 130: nothing lost, nothing twice`, async () => {
    const kill = async (service: 'orders' | 'payments'): Promise<void> => {
      const pid = shop().pid(service);
      shop().note(`SIGKILL ${service} (pid ${pid})`);
      process.kill(pid, 'SIGKILL');
      await shop().restarted(service, pid);
      shop().note(`${service} back`);
    };
    const killed: Promise<void>[] = [];
    let accepted = 0;
    await inParallel(
      Array.from({ length: ORDERS }, (_, i) => i),
      8,
      async (i) => {
        await shop().customer.placeUntilAccepted(mixedOrder(i));
        accepted++;
        if (accepted === 50) killed.push(kill('orders'));
        if (accepted === 130) killed.push(killed[0]!.then(() => kill('payments')));
      },
    );
    await Promise.all(killed);
    expect(killed).toHaveLength(2);
    // The burst really went through the restarts: some requests had to be sent again.
    expect(shop().customer.attempts.filter((a) => a.outcome !== 'accepted').length).toBeGreaterThan(0);
    expect(shop().customer.accepted.size).toBe(ORDERS);
    expect(await shop().check()).toEqual([]);
  }, 420_000);
});
