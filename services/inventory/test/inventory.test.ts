import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { orderEvents } from '@shop/contracts';
import { main } from '../src/main.js';
import { eventually, quiet, startTestStack, type TestStack } from '@flotilla/dev/testing';
import { shop } from '../../system.js';

let stack: TestStack;
let inventory: Awaited<ReturnType<typeof main>>;
let url: string;

beforeAll(async () => {
  stack = await startTestStack(shop);
  inventory = await main({ env: stack.varsFor('inventory'), manageProcess: false, logDestination: quiet });
  url = inventory.listening.url;
});
afterAll(async () => {
  await inventory?.svc.stop();
  await stack?.stop();
});

const available = async (sku: string) =>
  ((await (await fetch(`${url}/api/inventory/items/${sku}`)).json()) as { available: number }).available;
const reserve = (orderId: string, items: { sku: string; quantity: number }[]) =>
  fetch(`${url}/internal/reservations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId, items }),
  });
const release = async (orderId: string) =>
  (await (await fetch(`${url}/internal/reservations/${orderId}/release`, { method: 'POST' })).json()) as {
    released: boolean;
  };

describe('inventory', () => {
  test('the catalogue is seeded on first start', async () => {
    const res = await fetch(`${url}/api/inventory/items/SKU-RARE`);
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
    const res = await fetch(`${url}/api/inventory/items/SKU-NOPE`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  test('a reservation takes stock once per order id, however often it is repeated', async () => {
    const first = await reserve('order-1', [{ sku: 'SKU-RARE', quantity: 2 }]);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      orderId: 'order-1',
      items: [{ sku: 'SKU-RARE', quantity: 2, priceCents: 1000 }],
      totalCents: 2000,
    });
    const again = await reserve('order-1', [{ sku: 'SKU-RARE', quantity: 2 }]);
    expect(again.status).toBe(200);
    expect(await available('SKU-RARE')).toBe(3);
    const other = await reserve('order-1', [{ sku: 'SKU-RARE', quantity: 1 }]);
    expect(other.status).toBe(422);
  });

  test('not enough stock is a 409 that takes nothing; an unknown SKU is a 422', async () => {
    const short = await reserve('order-2', [
      { sku: 'SKU-CHEAP', quantity: 1 },
      { sku: 'SKU-RARE', quantity: 50 },
    ]);
    expect(short.status).toBe(409);
    expect(await short.json()).toMatchObject({ sku: 'SKU-RARE', requested: 50, available: 3 });
    expect(await available('SKU-CHEAP')).toBe(1_000_000);
    const unknown = await reserve('order-3', [{ sku: 'SKU-NOPE', quantity: 1 }]);
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ skus: ['SKU-NOPE'] });
  });

  test('order.cancelled releases the stock once, even delivered twice', async () => {
    expect((await reserve('order-4', [{ sku: 'SKU-RARE', quantity: 3 }])).status).toBe(201);
    expect(await available('SKU-RARE')).toBe(0);
    const orders = stack.publisherAs('orders', orderEvents);
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
    const res = await fetch(`${url}/internal/reservations/order-4/release`, { method: 'POST' });
    expect(await res.json()).toEqual({ orderId: 'order-4', released: false });
    await new Promise((r) => setTimeout(r, 500));
    expect(await available('SKU-RARE')).toBe(3);
  });

  // A released reservation whose order was never stored (orders gave it back) is taken again by a retry.
  test('a repeat of a released reservation takes its stock again and holds it, once', async () => {
    const before = await available('SKU-RARE');
    const items = [{ sku: 'SKU-RARE', quantity: 2 }];
    expect((await reserve('order-5', items)).status).toBe(201);
    expect(await release('order-5')).toMatchObject({ released: true });
    expect(await available('SKU-RARE')).toBe(before);

    const again = await reserve('order-5', items);
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual({
      orderId: 'order-5',
      items: [{ sku: 'SKU-RARE', quantity: 2, priceCents: 1000 }],
      totalCents: 2000,
      released: false,
    });
    expect(await available('SKU-RARE')).toBe(before - 2);
    const repeat = await reserve('order-5', items);
    expect(repeat.status).toBe(200);
    expect(await available('SKU-RARE')).toBe(before - 2);
    const other = await reserve('order-5', [{ sku: 'SKU-RARE', quantity: 1 }]);
    expect(await other.json()).toMatchObject({ type: 'urn:shop:problem:reservation-mismatch' });
    // Held again, so it can be given back again.
    expect(await release('order-5')).toMatchObject({ released: true });
    expect(await available('SKU-RARE')).toBe(before);
  });

  test('a repeat of a released reservation without the stock for it is the 409 and takes nothing', async () => {
    const rare = await available('SKU-RARE');
    const cheap = await available('SKU-CHEAP');
    const items = [
      { sku: 'SKU-CHEAP', quantity: 1 },
      { sku: 'SKU-RARE', quantity: rare },
    ];
    expect((await reserve('order-6', items)).status).toBe(201);
    expect(await release('order-6')).toMatchObject({ released: true });
    expect((await reserve('order-7', [{ sku: 'SKU-RARE', quantity: 1 }])).status).toBe(201);

    const short = await reserve('order-6', items);
    expect(short.status).toBe(409);
    expect(await short.json()).toMatchObject({
      type: 'urn:shop:problem:insufficient-stock',
      sku: 'SKU-RARE',
      requested: rare,
      available: rare - 1,
    });
    expect([await available('SKU-CHEAP'), await available('SKU-RARE')]).toEqual([cheap, rare - 1]);
    // Still released: there is nothing to give back.
    expect(await release('order-6')).toMatchObject({ released: false });
    expect(await release('order-7')).toMatchObject({ released: true });
    expect(await available('SKU-RARE')).toBe(rare);
  });

  // Orders stores an order before it can be cancelled, so a late repeat of its reservation (a request that
  // raced the one that stored it) must not take the stock back off the shelf: nothing would release it again.
  test("a repeat of a cancelled order's reservation takes nothing", async () => {
    const before = await available('SKU-RARE');
    const items = [{ sku: 'SKU-RARE', quantity: 2 }];
    expect((await reserve('order-8', items)).status).toBe(201);
    const orders = stack.publisherAs('orders', orderEvents);
    await orders.publish('orders', 'order.cancelled', {
      orderId: 'order-8',
      reason: 'payment declined',
      items,
    });
    await eventually('stock released', async () =>
      (await available('SKU-RARE')) === before ? true : undefined,
    );

    const late = await reserve('order-8', items);
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ orderId: 'order-8', released: true });
    expect(await available('SKU-RARE')).toBe(before);
  });
});
