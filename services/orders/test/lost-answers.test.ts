/**
 * The reserve step under lost answers (issue 11, defect 1): inventory commits a reservation but orders never
 * hears of it in time, hears of it never, or dies before it could act. A real HTTP proxy in front of the real
 * inventory delays or holds what passes (see support/inventory-proxy.ts). In every case, once the
 * compensation ran, no stock is held for an order that was not stored, and at the end the stock adds up:
 * what inventory started with = available + held by live orders.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { eventually, testEngines } from '@flotilla/dev/testing';
import { startInventoryProxy, type InventoryProxy } from './support/inventory-proxy.js';
import { startOrdersWithInventory, type OrdersWithInventory } from './support/orders-with-inventory.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RARE = [{ sku: 'SKU-RARE', quantity: 2 }];

describe.each(testEngines())('orders: the reserve step under lost answers [$name]', ({ stackOptions }) => {
  let running: OrdersWithInventory;
  let proxy: InventoryProxy;
  beforeAll(async () => {
    running = await startOrdersWithInventory(async (url) => {
      proxy = await startInventoryProxy(url);
      return proxy.url;
    }, stackOptions);
  });
  afterAll(async () => {
    await running?.stop();
    await proxy?.close();
  });
  beforeEach(() => {
    proxy.delayAnswers(undefined);
    proxy.reservations.splice(0);
    proxy.releases.splice(0);
    proxy.reservationAnswers.splice(0);
    proxy.releaseAnswers.splice(0);
  });

  const available = (sku: string) => running.available(sku);
  const place = async (url: string, items: typeof RARE) => {
    const res = await fetch(`${url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'c-lost', items }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const openReservations = () =>
    running.orders.database.db.selectFrom('open_reservations').select(['id', 'state']).execute();
  const storedOrders = async () =>
    (await running.orders.database.db.selectFrom('orders').select('id').execute()).length;

  test("an answer that comes after orders gave up (the issue's reproduction): 503, then the stock is back", async () => {
    const before = await available('SKU-RARE');
    const ordersBefore = await storedOrders();
    // Inventory gets every call at once; orders gets every answer 5 s later, after its 1.5 s timeout.
    proxy.delayAnswers(5000);
    const answer = await place(running.orders.listening.url, RARE);

    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ type: 'urn:shop:problem:inventory-unavailable' });
    // Inventory committed the reservation (the first attempt); once the compensation ran, the stock is back.
    expect(proxy.reservationAnswers[0]).toBe(201);
    await eventually(
      'the stock back',
      async () => ((await available('SKU-RARE')) === before ? true : undefined),
      60_000,
    );
    // Every attempt named one reservation, so inventory took the stock once, and the release named it too.
    const ids = proxy.reservations.map((r) => r.reservationId);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toEqual(expect.any(String));
    expect(proxy.reservationAnswers).toEqual([201, ...ids.slice(1).map(() => 200)]);
    expect(proxy.releases).toContain(`/internal/reservations/${ids[0]}/release`);
    // Orders knows it is done: its release row is gone (it is kept until inventory confirms).
    await eventually(
      'the release confirmed',
      async () => ((await openReservations()).length === 0 ? true : undefined),
      60_000,
    );
    expect(await storedOrders()).toBe(ordersBefore);
  }, 90_000);

  test('a reservation that reaches inventory only after orders released it (a tombstone) takes nothing', async () => {
    const before = await available('SKU-RARE');
    // Every attempt waits in the proxy until orders has given up and its release went through.
    const late = proxy.hold('reservation', 3);
    const answer = await place(running.orders.listening.url, RARE);
    expect(answer.status).toBe(503);
    await eventually('inventory to answer the release', async () =>
      proxy.releaseAnswers.length > 0 ? true : undefined,
    );

    late.letGo();
    await eventually('the late attempts answered', async () =>
      proxy.reservationAnswers.length === proxy.reservations.length ? true : undefined,
    );
    expect(await available('SKU-RARE')).toBe(before);
    expect(proxy.reservationAnswers).toEqual(proxy.reservations.map(() => 409));
    const id = proxy.reservations[0]!.reservationId;
    expect(proxy.releases).toEqual([`/internal/reservations/${id}/release`]);
    await eventually('the release confirmed', async () =>
      (await openReservations()).length === 0 ? true : undefined,
    );
  }, 60_000);

  test('a request that outlives its reservation (30 s) stores no order: the worker gave the stock back', async () => {
    const before = await available('SKU-RARE');
    const ordersBefore = await storedOrders();
    const held = proxy.hold('reservation-answer');
    const answer = place(running.orders.listening.url, RARE);
    await held.reached;
    const id = proxy.reservations[0]!.reservationId;
    // The request counts as gone 30 s after it began; the test skips the wait.
    await running.orders.database.db
      .updateTable('open_reservations')
      .set({ next_attempt_at: new Date() })
      .where('id', '=', id)
      .execute();
    // The worker takes it now (or has, at its last look), while inventory's answer is still on its way.
    await running.orders.releaser()!.drain();
    expect(proxy.releaseAnswers).toEqual([200]);
    expect(await available('SKU-RARE')).toBe(before);
    held.letGo();

    expect(await answer).toMatchObject({
      status: 503,
      body: { type: 'urn:shop:problem:order-timed-out' },
    });
    expect(await available('SKU-RARE')).toBe(before);
    expect(await storedOrders()).toBe(ordersBefore);
    expect(await openReservations()).toEqual([]);
  }, 60_000);

  test('orders crashes between the reservation and its compensation: the next start releases it', async () => {
    const before = await available('SKU-RARE');
    await running.orders.svc.stop();
    const crashing = await startOrdersProcess(running.ordersVars);
    try {
      // Inventory commits the reservation; its answer waits in the proxy while orders is killed.
      const held = proxy.hold('reservation-answer');
      const answer = place(crashing.url, RARE).then(
        () => 'an answer',
        () => 'no answer',
      );
      await held.reached;
      expect(await available('SKU-RARE')).toBe(before - 2);
      crashing.child.kill('SIGKILL');
      await crashing.exited;
      expect(await answer).toBe('no answer');
      held.letGo();
    } finally {
      crashing.child.kill('SIGKILL');
    }

    await running.startOrders();
    const id = proxy.reservations[0]!.reservationId;
    // What the crash left: the reservation's row, still `reserving`, and the stock held.
    expect(await openReservations()).toEqual([{ id, state: 'reserving' }]);
    expect(await available('SKU-RARE')).toBe(before - 2);
    // Its request counts as gone 30 s after it began; the test skips the wait.
    await running.orders.database.db
      .updateTable('open_reservations')
      .set({ next_attempt_at: new Date() })
      .where('id', '=', id)
      .execute();
    await eventually('the stock back and the release confirmed', async () =>
      (await available('SKU-RARE')) === before && (await openReservations()).length === 0 ? true : undefined,
    );
    expect(proxy.releases).toEqual([`/internal/reservations/${id}/release`]);
  }, 120_000);

  test('orders still places orders, and the stock adds up: started with = available + held by live orders', async () => {
    const placed = await place(running.orders.listening.url, [{ sku: 'SKU-RARE', quantity: 1 }]);
    expect(placed.status).toBe(201);
    expect(await running.stockProblems()).toEqual([]);
  }, 60_000);
});

/** Orders as a process of its own (so that it can be killed), on `vars`; resolves once it listens. */
async function startOrdersProcess(
  vars: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; exited: Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--conditions=flotilla-source', '--import', 'tsx', 'services/orders/src/main.ts'],
    { cwd: REPO_ROOT, env: { ...vars, PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /"port":(\d+)[^\n]*listening on port/.exec(output);
      if (listening) resolve(Number(listening[1]));
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => reject(new Error(`orders exited before it listened:\n${output}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}
