/**
 * Orders a careless or hostile client sends, through orders and the real inventory: refused with a 400 that
 * names the field, nothing stored, nothing reserved (issue 11).
 *
 * Strings PostgreSQL cannot store in `text` (NUL, UTF-16 surrogates without their pair) are refused with 400
 * where they enter, never passed on to a database that answers 500 (issue 11, defect 2). On main, five orders
 * with `"sku":"SKU\u0000X"` made inventory answer 500 five times, orders' breaker opened, and the next valid
 * order got 503. Fields no client may set (a status, a total, a price) were silently dropped.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { orderIdForKey } from '../src/place-order.js';
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
const place = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${ordersUrl}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

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

describe('fields no client sets', () => {
  const valid = { customerId: 'c', items: [{ sku: 'SKU-RARE', quantity: 1 }] };

  test.each([
    ['a status', { ...valid, status: 'PAID' }, 'status'],
    ['a total', { ...valid, totalCents: 0 }, 'totalCents'],
    [
      'a price on a line',
      { ...valid, items: [{ sku: 'SKU-RARE', quantity: 1, priceCents: 0 }] },
      'items[0].priceCents',
    ],
  ])('an order with %s is a 400 naming it; no order stored, no stock reserved', async (name, body, path) => {
    const before = await running.available('SKU-RARE');
    const key = `unknown-field-${name.replaceAll(' ', '-')}`;
    expect(await refusal(await place(body, { 'idempotency-key': key }))).toEqual({
      status: 400,
      paths: [path],
    });
    expect((await fetch(`${ordersUrl}/api/orders/${orderIdForKey(key)}`)).status).toBe(404);
    expect(await running.available('SKU-RARE')).toBe(before);
  });

  test('inventory refuses a reservation with a field it does not know', async () => {
    const res = await post(`${inventoryUrl}/internal/reservations`, {
      reservationId: 'r-unknown-field',
      orderId: 'o-unknown-field',
      items: [{ sku: 'SKU-RARE', quantity: 1 }],
      priceCents: 0,
    });
    expect(await refusal(res)).toEqual({ status: 400, paths: ['priceCents'] });
  });
});
