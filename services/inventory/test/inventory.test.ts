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
});
