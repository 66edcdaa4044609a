/**
 * Scenario 4: inventory hung (SIGSTOP: its socket still accepts, nothing answers) and inventory crashed
 * (SIGKILL, restarted by the stack). orders answers 503 without waiting for inventory once its breaker
 * opened; what does not need inventory (payments, notifications, reading orders) keeps working; once
 * inventory is back, orders places orders again without being restarted; and no stock leaked: an order
 * refused with 503 holds none.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { eventually } from '@flotilla/dev/testing';
import type { Attempt } from './support/customer.js';
import { useFaultShop } from './support/shop.js';
import { inParallel } from './support/util.js';

/**
 * "Fast": sooner than one call of orders to inventory can time out (orders' client gives inventory 1.5 s,
 * services/orders/src/main.ts), so orders did not wait for inventory at all.
 */
const FAST_MS = 1500;
const ORDER = [{ sku: 'SKU-CHEAP', quantity: 1 }];
const unavailable = (a: Attempt) =>
  a.status === 503 && (a.problem?.type ?? '').endsWith('inventory-unavailable');

describe('S4: inventory hung, then crashed', () => {
  const shop = useFaultShop({ name: 'inventory-down' });
  let ordersPid: number;
  beforeAll(() => {
    ordersPid = shop().pid('orders');
  });

  /** Sends single attempts, four at a time, until `enough` says so (or `timeoutMs`); every answer. */
  async function hammer(enough: (answers: Attempt[]) => boolean, timeoutMs: number): Promise<Attempt[]> {
    const answers: Attempt[] = [];
    const deadline = Date.now() + timeoutMs;
    await inParallel([0, 1, 2, 3], 4, async () => {
      while (!enough(answers) && Date.now() < deadline) answers.push(await shop().customer.place(ORDER));
    });
    return answers;
  }
  const recovers = () =>
    eventually(
      'orders to place an order again',
      async () => ((await shop().customer.place(ORDER)).outcome === 'accepted' ? true : undefined),
      90_000,
    );
  const healthy = async () => {
    for (const service of ['orders', 'payments', 'notifications'])
      expect({ service, ready: await shop().ready(service) }).toEqual({ service, ready: true });
  };

  test('hung: 503s come fast once the breaker opens, the rest keeps working, orders recover unrestarted', async () => {
    // On their way when inventory hangs: charging and notifying them does not need inventory.
    const onTheirWay = await inParallel([0, 1, 2], 3, () => shop().customer.placeUntilAccepted(ORDER));
    const inventory = shop().pid('inventory');
    shop().note(`SIGSTOP inventory (pid ${inventory})`);
    process.kill(inventory, 'SIGSTOP');
    try {
      const lastFast = (answers: Attempt[]) =>
        answers.length >= 5 && answers.slice(-5).every((a) => unavailable(a) && a.ms < FAST_MS);
      const answers = await hammer(lastFast, 120_000);
      expect(lastFast(answers)).toBe(true);
      expect(answers.filter((a) => !unavailable(a)).map((a) => a.status)).toEqual([]);
      expect(
        shop()
          .breakerOpenings()
          .filter((r) => r.service === 'orders'),
      ).not.toHaveLength(0);
      for (const order of onTheirWay)
        await eventually(`order ${order.id} paid while inventory hangs`, async () =>
          (await shop().status(order.id)) === 'PAID' ? true : undefined,
        );
      await healthy();
      expect((await shop().customer.get(`/api/orders/${onTheirWay[0]!.id}`)).status).toBe(200);
    } finally {
      process.kill(inventory, 'SIGCONT');
      shop().note('SIGCONT inventory');
    }
    await recovers();
    expect(shop().pid('orders')).toBe(ordersPid);
  }, 300_000);

  test('crashed: every answer meanwhile is a 503, orders recover unrestarted once inventory is back', async () => {
    const inventory = shop().pid('inventory');
    shop().note(`SIGKILL inventory (pid ${inventory})`);
    process.kill(inventory, 'SIGKILL');
    const back = shop().restarted('inventory', inventory);
    let restarted = false;
    void back.then(() => (restarted = true));
    const answers = await hammer(() => restarted, 90_000);
    await back;
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.outcome !== 'accepted' && !unavailable(a)).map((a) => a.status)).toEqual(
      [],
    );
    await healthy();
    await recovers();
    expect(shop().pid('orders')).toBe(ordersPid);
  }, 300_000);

  test('nothing lost, nothing twice, no stock leaked', async () => {
    expect(await shop().check()).toEqual([]);
  }, 300_000);
});
