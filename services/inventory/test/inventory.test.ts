import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { orderEvents } from '@shop/contracts';
import { eventually, testEngines } from '@flotilla/dev/testing';
import { startInventory, type RunningInventory } from './support/inventory-api.js';

describe.each(testEngines())('inventory [$name]', ({ stackOptions }) => {
  let running: RunningInventory;
  beforeAll(async () => {
    running = await startInventory(stackOptions);
  });
  afterAll(async () => {
    await running?.stop();
  });

  const available = (sku: string) => running.available(sku);
  const reserve = (...args: Parameters<RunningInventory['reserve']>) => running.reserve(...args);
  const release = (reservationId: string) => running.release(reservationId);
  const cancel = (orderId: string, items: { sku: string; quantity: number }[]) =>
    running.stack
      .publisherAs('orders', orderEvents)
      .publish('orders', 'order.cancelled', { orderId, reason: 'payment declined', items });

  test('the catalogue is seeded on first start', async () => {
    const res = await fetch(`${running.url}/api/inventory/items/SKU-RARE`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      sku: 'SKU-RARE',
      name: 'Rare widget',
      priceCents: 1000,
      available: 5,
    });
    expect(await available('SKU-CHEAP')).toBe(1_000_000);
    expect(await available('SKU-LUXURY')).toBe(1_000_000);
  });

  test('an unknown item is a 404 problem', async () => {
    const res = await fetch(`${running.url}/api/inventory/items/SKU-NOPE`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  test('a reservation takes stock once per reservation id, however often it is repeated', async () => {
    const first = await reserve('r-1', 'order-1', [{ sku: 'SKU-RARE', quantity: 2 }]);
    expect(first.status).toBe(201);
    const body = await first.json();
    expect(body).toEqual({
      reservationId: 'r-1',
      orderId: 'order-1',
      items: [{ sku: 'SKU-RARE', quantity: 2, priceCents: 1000 }],
      totalCents: 2000,
    });
    const again = await reserve('r-1', 'order-1', [{ sku: 'SKU-RARE', quantity: 2 }]);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(body);
    expect(await available('SKU-RARE')).toBe(3);
    const otherItems = await reserve('r-1', 'order-1', [{ sku: 'SKU-RARE', quantity: 1 }]);
    expect(otherItems.status).toBe(422);
    const otherOrder = await reserve('r-1', 'order-9', [{ sku: 'SKU-RARE', quantity: 2 }]);
    expect(otherOrder.status).toBe(422);
    expect(await otherOrder.json()).toMatchObject({ type: 'urn:shop:problem:reservation-mismatch' });
    expect(await available('SKU-RARE')).toBe(3);
  });

  test('not enough stock is a 409 that takes nothing; an unknown SKU is a 422', async () => {
    const short = await reserve('r-2', 'order-2', [
      { sku: 'SKU-CHEAP', quantity: 1 },
      { sku: 'SKU-RARE', quantity: 50 },
    ]);
    expect(short.status).toBe(409);
    expect(await short.json()).toMatchObject({ sku: 'SKU-RARE', requested: 50, available: 3 });
    expect(await available('SKU-CHEAP')).toBe(1_000_000);
    const unknown = await reserve('r-3', 'order-3', [{ sku: 'SKU-NOPE', quantity: 1 }]);
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ skus: ['SKU-NOPE'] });
  });

  test('order.cancelled releases the stock once, even delivered twice', async () => {
    expect((await reserve('r-4', 'order-4', [{ sku: 'SKU-RARE', quantity: 3 }])).status).toBe(201);
    expect(await available('SKU-RARE')).toBe(0);
    const orders = running.stack.publisherAs('orders', orderEvents);
    const data = {
      orderId: 'order-4',
      reason: 'payment declined',
      items: [{ sku: 'SKU-RARE', quantity: 3 }],
    };
    const sent = await orders.publish('orders', 'order.cancelled', data);
    await orders.publish('orders', 'order.cancelled', data, { id: sent.id }); // a redelivery
    await orders.publish('orders', 'order.cancelled', data); // the same fact under another event id
    await eventually('stock released', async () => ((await available('SKU-RARE')) === 3 ? true : undefined));
    // A release by HTTP afterwards finds nothing left to release.
    expect(await release('r-4')).toEqual({ reservationId: 'r-4', released: false });
    await new Promise((r) => setTimeout(r, 500));
    expect(await available('SKU-RARE')).toBe(3);
  });

  // Orders releases a reservation only when it gave up on it; a repeat that arrives later (a retry delayed on
  // the network) must not take the stock again, or nothing would ever give it back.
  test('a released reservation is never taken again: a repeat is a 409 that takes nothing', async () => {
    const before = await available('SKU-RARE');
    const items = [{ sku: 'SKU-RARE', quantity: 2 }];
    expect((await reserve('r-5', 'order-5', items)).status).toBe(201);
    expect(await release('r-5')).toEqual({ reservationId: 'r-5', released: true });
    expect(await release('r-5')).toEqual({ reservationId: 'r-5', released: false });
    expect(await available('SKU-RARE')).toBe(before);

    const late = await reserve('r-5', 'order-5', items);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({
      type: 'urn:shop:problem:reservation-released',
      reservationId: 'r-5',
      reason: 'released',
    });
    expect(await available('SKU-RARE')).toBe(before);
    // The order itself can still be placed, under a new reservation id.
    expect((await reserve('r-5b', 'order-5', items)).status).toBe(201);
    expect(await available('SKU-RARE')).toBe(before - 2);
    expect(await release('r-5b')).toMatchObject({ released: true });
  });

  test('a release of an id never reserved leaves a tombstone: a reserve arriving after it takes nothing', async () => {
    const before = await available('SKU-RARE');
    expect(await release('r-6')).toEqual({ reservationId: 'r-6', released: false });
    const late = await reserve('r-6', 'order-6', [{ sku: 'SKU-RARE', quantity: 1 }]);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ type: 'urn:shop:problem:reservation-released' });
    expect(await available('SKU-RARE')).toBe(before);
  });

  test('a release racing the reserve of its id: whichever comes first, no stock stays taken', async () => {
    const before = await available('SKU-CHEAP');
    const ids = Array.from({ length: 20 }, (_, i) => `r-race-${i}`);
    await Promise.all(
      ids.map((id, i) =>
        Promise.all([
          i % 2 === 0 ? reserve(id, `order-${id}`, [{ sku: 'SKU-CHEAP', quantity: 1 }]) : release(id),
          i % 2 === 0 ? release(id) : reserve(id, `order-${id}`, [{ sku: 'SKU-CHEAP', quantity: 1 }]),
        ]),
      ),
    );
    expect(await available('SKU-CHEAP')).toBe(before);
  });

  test("a repeat of a cancelled order's reservation takes nothing", async () => {
    const before = await available('SKU-RARE');
    const items = [{ sku: 'SKU-RARE', quantity: 2 }];
    expect((await reserve('r-8', 'order-8', items)).status).toBe(201);
    await cancel('order-8', items);
    await eventually('stock released', async () =>
      (await available('SKU-RARE')) === before ? true : undefined,
    );

    const late = await reserve('r-8', 'order-8', items);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ reason: 'cancelled' });
    expect(await available('SKU-RARE')).toBe(before);
  });
});
