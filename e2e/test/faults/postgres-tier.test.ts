/**
 * The scenarios that need the shop on a PostgreSQL server, as in the clusters: one stack on a server of
 * the suite's own (see support/postgres-server.ts), the scenarios one after the other, each ending with the
 * books read from the live databases.
 *
 * - Scenario 9, a slow consumer: one message whose handler waits on a row lock does not hold back the others.
 * - Scenario 3, a rolling restart under load: a replacement process of orders (then of payments) starts, the
 *   old one gets SIGTERM while requests run through the gateway: no request fails, no message is lost.
 * - Scenario 6, the PostgreSQL server restarted in the middle of a burst: nothing lost.
 */
import { describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { eventually } from '@flotilla/dev/testing';
import type { Order } from './support/customer.js';
import { describePostgresTier } from './support/postgres-server.js';
import { mixedOrder, useFaultShop } from './support/shop.js';
import { inParallel, sleep } from './support/util.js';

const ORDER = [{ sku: 'SKU-CHEAP', quantity: 1 }];

describePostgresTier('the shop on PostgreSQL', (bin) => {
  const shop = useFaultShop({ name: 'postgres-tier', postgresBinaries: bin });

  const paid = (id: string) =>
    eventually(
      `order ${id} PAID`,
      async () => ((await shop().status(id)) === 'PAID' ? true : undefined),
      60_000,
    );

  describe('S9: a slow consumer', () => {
    test('an order whose payment outcome waits on a row lock does not hold back 20 others', async () => {
      const db = new pg.Client({ connectionString: shop().service('orders').databaseUrl });
      await db.connect();
      let slow: Order | undefined;
      try {
        // Lock the order's row before its payment outcome arrives (a few hops later); try again if it won.
        for (let tries = 0; tries < 5 && !slow; tries++) {
          const order = await shop().customer.placeUntilAccepted(ORDER);
          await db.query('begin');
          const { rows } = await db.query('select status from orders where id = $1 for update', [order.id]);
          if (rows[0]?.status === 'PENDING') slow = order;
          else await db.query('rollback');
        }
        expect(slow).toBeDefined();
        shop().note(`order ${slow!.id} locked`);
        const others = await inParallel(
          Array.from({ length: 20 }, () => ORDER),
          4,
          (items) => shop().customer.placeUntilAccepted(items),
        );
        for (const order of others) await paid(order.id);
        // Charged, so its payment outcome is on orders' queue: orders' handler is the one waiting.
        const { payments } = (await (
          await fetch(`${shop().service('payments').url}/internal/payments?orderId=${slow!.id}`)
        ).json()) as { payments: unknown[] };
        expect(payments).toHaveLength(1);
        expect(await shop().status(slow!.id)).toBe('PENDING');
      } finally {
        await db.query('rollback').catch(() => undefined);
        await db.end();
        shop().note('lock released');
      }
      await paid(slow!.id);
      expect(await shop().check()).toEqual([]);
    }, 300_000);
  });

  describe('S3: a rolling restart under load', () => {
    test('orders, then payments, replaced while requests run through the gateway: none fails, none lost', async () => {
      const failures: string[] = [];
      let requests = 0;
      let running = true;
      const load = inParallel([0, 1, 2, 3], 4, async (worker) => {
        for (let i = worker; running; i += 4) {
          const attempt = await shop().customer.place(mixedOrder(i));
          requests++;
          if (attempt.outcome !== 'accepted') {
            failures.push(`POST /api/orders: ${attempt.status} ${attempt.problem?.detail ?? ''}`);
            continue;
          }
          const read = await shop().customer.get(`/api/orders/${attempt.order!.id}`);
          requests++;
          if (read.status !== 200) failures.push(`GET /api/orders/<id>: ${read.status}`);
        }
      });
      /** The orders processes that took an order between two moments. */
      const servedBy = (from: number, until: number) =>
        new Set(
          shop()
            .logs.filter((r) => r.service === 'orders' && r.msg === 'request' && r.method === 'POST')
            .filter((r) => {
              const at = typeof r.time === 'string' ? Date.parse(r.time) : Number(r.time);
              return at >= from && at <= until;
            })
            .map((r) => r.process),
        );
      let both = new Set<string>();
      try {
        await sleep(2000);
        for (const service of ['orders', 'payments']) {
          const old = shop().pid(service);
          shop().note(`starting a second ${service}`);
          const replacement = await shop().stack.startInstance(service);
          const from = Date.now();
          await sleep(3000);
          if (service === 'orders') both = servedBy(from, Date.now());
          shop().note(`SIGTERM the old ${service} (pid ${old})`);
          await shop().stack.stopInstance(service, old);
          expect(shop().pid(service)).toBe(replacement.pid);
          await sleep(2000);
        }
      } finally {
        running = false;
        await load;
      }
      expect(requests).toBeGreaterThan(40);
      // While both ran, the gateway gave orders to both.
      expect([...both].sort()).toEqual(['orders', 'orders#2']);
      expect([...failures, ...(await shop().check())]).toEqual([]);
    }, 300_000);
  });

  describe('S6: the PostgreSQL server restarted in the middle of a burst', () => {
    test('100 orders, the server restarted after 30 (3 s down): nothing lost, nothing twice', async () => {
      let accepted = 0;
      let restart: Promise<void> | undefined;
      const before = shop().customer.attempts.length;
      await inParallel(
        Array.from({ length: 100 }, (_, i) => i),
        6,
        async (i) => {
          await shop().customer.placeUntilAccepted(mixedOrder(i));
          if (++accepted === 30) {
            shop().note('restarting PostgreSQL');
            restart = shop()
              .postgres!.restart(3000)
              .then(() => shop().note('PostgreSQL back'));
          }
        },
      );
      await restart;
      // The restart hit requests in flight: some had to be sent again.
      expect(
        shop()
          .customer.attempts.slice(before)
          .some((a) => a.outcome !== 'accepted'),
      ).toBe(true);
      expect(await shop().check()).toEqual([]);
    }, 400_000);
  });
});
