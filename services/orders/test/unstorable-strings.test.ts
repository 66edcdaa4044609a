/**
 * Strings PostgreSQL cannot store in `text` (NUL, UTF-16 surrogates without their pair) are refused with 400
 * where they enter, never passed on to a database that answers 500 (issue 11, defect 2). On main, five orders
 * with `"sku":"SKU\u0000X"` made inventory answer 500 five times, orders' breaker opened, and the next valid
 * order got 503.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startOrdersWithInventory, type OrdersWithInventory } from './support/orders-with-inventory.js';

let running: OrdersWithInventory;
let ordersUrl: string;
let inventoryUrl: string;

beforeAll(async () => {
  running = await startOrdersWithInventory();
  ordersUrl = running.orders.listening.url;
  inventoryUrl = running.inventory.listening.url;
});
afterAll(async () => {
  await running?.stop();
});

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // JSON.stringify escapes NUL and lone surrogates (\u0000, \ud800): the JSON itself is well formed.
    body: JSON.stringify(body),
  });
const place = (body: unknown) => post(`${ordersUrl}/api/orders`, body);

/** The status and the field paths of a problem answer. */
async function refusal(res: Response): Promise<{ status: number; paths: string[] }> {
  const problem = (await res.json()) as { errors?: { path: string }[] };
  return { status: res.status, paths: (problem.errors ?? []).map((e) => e.path) };
}

describe('strings the database cannot store', () => {
  test('five orders with a NUL in a SKU are 400s, and the next valid order is placed', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await place({ customerId: 'c', items: [{ sku: 'SKU\u0000X', quantity: 1 }] });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await refusal(res)).toEqual({ status: 400, paths: ['items[0].sku'] });
    }
    const valid = await place({ customerId: 'c', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] });
    expect(valid.status).toBe(201);
  });

  test('lone surrogates and NULs are 400s naming the field, in orders and in inventory', async () => {
    const line = { sku: 'SKU-CHEAP', quantity: 1 };
    expect(await refusal(await place({ customerId: 'a\ud800', items: [line] }))).toEqual({
      status: 400,
      paths: ['customerId'],
    });
    expect(await refusal(await place({ customerId: 'a', items: [{ ...line, sku: 'SKU-\udfff' }] }))).toEqual({
      status: 400,
      paths: ['items[0].sku'],
    });
    expect(await refusal(await place({ customerId: '\udc00\ud800', items: [line] }))).toEqual({
      status: 400,
      paths: ['customerId'],
    });
    expect(
      await refusal(
        await post(`${inventoryUrl}/internal/reservations`, { orderId: 'o\u0000', items: [line] }),
      ),
    ).toEqual({ status: 400, paths: ['orderId'] });
    // A pair is a character like any other: an emoji is storable (and an unknown SKU here).
    expect(
      (await place({ customerId: 'c-\ud83d\ude00', items: [{ ...line, sku: 'SKU-\ud83d\ude00' }] })).status,
    ).toBe(422);
  });

  test('a NUL in a path or query is a 400, never a 500', async () => {
    for (const url of [
      `${ordersUrl}/api/orders/%00`,
      `${ordersUrl}/api/orders/a%00b`,
      `${inventoryUrl}/api/inventory/items/SKU-CHEAP%00`,
      `${inventoryUrl}/api/inventory/items/SKU-CHEAP?x=%00`,
    ]) {
      const res = await fetch(url);
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const release = await fetch(`${inventoryUrl}/internal/reservations/o%00/release`, { method: 'POST' });
    expect(release.status).toBe(400);
  });
});
