import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { paymentEvents } from '@shop/contracts';
import { orderIdForKey } from '../src/place-order.js';
import { startOrdersWithInventory, type OrdersWithInventory } from './support/orders-with-inventory.js';
import { eventually, type TestStack } from '@flotilla/dev/testing';

let running: OrdersWithInventory;
let stack: TestStack;
let inventory: OrdersWithInventory['inventory'];
let url: string;

beforeAll(async () => {
  // The real inventory service, in-process: orders reserves stock through its HTTP API.
  running = await startOrdersWithInventory();
  ({ stack, inventory } = running);
  url = running.orders.listening.url;
});
afterAll(async () => {
  await running?.stop();
});

interface Order {
  id: string;
  status: string;
  customerId: string;
  items: { sku: string; quantity: number; priceCents: number }[];
  totalCents: number;
  createdAt: string;
}

const place = (body: unknown, key?: string) =>
  fetch(`${url}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
const getOrder = async (id: string) => (await (await fetch(`${url}/api/orders/${id}`)).json()) as Order;
const available = (sku: string) => running.available(sku);
/** Payments' answer for `order`, as payments would publish it. */
const paymentOutcome = (order: Order, outcome: 'completed' | 'failed') => {
  const payments = stack.publisherAs('payments', paymentEvents);
  return outcome === 'completed'
    ? payments.publish('payments', 'payment.completed', {
        orderId: order.id,
        paymentId: `p-${order.id}`,
        amountCents: order.totalCents,
      })
    : payments.publish('payments', 'payment.failed', {
        orderId: order.id,
        reason: 'declined',
        amountCents: order.totalCents,
      });
};
const paidEventually = (order: Order) =>
  eventually('PAID', async () => ((await getOrder(order.id)).status === 'PAID' ? true : undefined));

describe('orders', () => {
  test('POST /api/orders reserves stock and answers 201 PENDING; GET reads it back', async () => {
    const res = await place({ customerId: 'c-1', items: [{ sku: 'SKU-CHEAP', quantity: 3 }] });
    expect(res.status).toBe(201);
    const order = (await res.json()) as Order;
    expect(order).toMatchObject({
      status: 'PENDING',
      customerId: 'c-1',
      items: [{ sku: 'SKU-CHEAP', quantity: 3, priceCents: 500 }],
      totalCents: 1500,
    });
    expect(Date.parse(order.createdAt)).not.toBeNaN();
    expect(await getOrder(order.id)).toMatchObject({ id: order.id, status: 'PENDING' });
    expect(await available('SKU-CHEAP')).toBe(1_000_000 - 3);
  });

  test('an unknown order is a 404 problem', async () => {
    const res = await fetch(`${url}/api/orders/no-such-order`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  test('invalid bodies are 400, unknown SKUs 422, too little stock 409 — all problem+json', async () => {
    const invalid = await place({ customerId: '', items: [{ sku: 'SKU-CHEAP', quantity: 0 }] });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toContain('application/problem+json');
    const paths = ((await invalid.json()) as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['customerId', 'items[0].quantity']));
    expect((await place({ customerId: 'c', items: [] })).status).toBe(400);

    const unknown = await place({ customerId: 'c', items: [{ sku: 'SKU-NOPE', quantity: 1 }] });
    expect(unknown.status).toBe(422);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect(((await unknown.json()) as { detail: string }).detail).toContain('SKU-NOPE');

    const short = await place({ customerId: 'c', items: [{ sku: 'SKU-RARE', quantity: 6 }] });
    expect(short.status).toBe(409);
    expect(await short.json()).toMatchObject({ sku: 'SKU-RARE', requested: 6, available: 5 });
  });

  test("the API's bounds are the events' (from @shop/contracts); spaces around ids are dropped", async () => {
    const line = { sku: 'SKU-CHEAP', quantity: 1 };
    const tooMany = await place({ customerId: 'c', items: Array.from({ length: 51 }, () => line) });
    expect(tooMany.status).toBe(400);
    const long = await place({
      customerId: 'c'.repeat(129),
      items: [{ sku: 'S'.repeat(65), quantity: 101 }],
    });
    expect(long.status).toBe(400);
    const paths = ((await long.json()) as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(paths).toEqual(['customerId', 'items[0].sku', 'items[0].quantity']);
    // Trimmed before the bounds apply: 128 characters inside the spaces is the longest id accepted.
    const trimmed = await place({
      customerId: ` ${'c'.repeat(128)} `,
      items: [{ sku: ' SKU-CHEAP ', quantity: 1 }],
    });
    expect(trimmed.status).toBe(201);
    const order = (await trimmed.json()) as Order;
    expect(order.customerId).toBe('c'.repeat(128));
    expect(order.items[0]?.sku).toBe('SKU-CHEAP');
  });

  test('the same Idempotency-Key and body give the same order, reserved once; another body is 422', async () => {
    const body = { customerId: 'c-2', items: [{ sku: 'SKU-RARE', quantity: 1 }] };
    const [a, b] = await Promise.all([place(body, 'key-1'), place(body, 'key-1')]);
    const c = await place(body, 'key-1');
    // Of two at once, the later one is a replay, or 409 while the first still places the order (see
    // idempotency-race.test.ts); the one after both is a replay.
    expect([
      [201, 201],
      [201, 409],
    ]).toContainEqual([a.status, b.status].sort());
    expect(c.status).toBe(201);
    const placed = [a, b, c].filter((r) => r.status === 201);
    const ids = await Promise.all(placed.map(async (r) => ((await r.json()) as Order).id));
    expect(new Set(ids).size).toBe(1);
    expect(await available('SKU-RARE')).toBe(4);

    const other = await place({ ...body, customerId: 'c-3' }, 'key-1');
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
  });

  test('payment.completed makes the order PAID; payment.failed CANCELLED with its stock released', async () => {
    const payments = stack.publisherAs('payments', paymentEvents);
    const paid = (await (
      await place({ customerId: 'c', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] })
    ).json()) as Order;
    await paymentOutcome(paid, 'completed');
    await paidEventually(paid);

    const before = await available('SKU-RARE');
    const failed = (await (
      await place({ customerId: 'c', items: [{ sku: 'SKU-RARE', quantity: 2 }] })
    ).json()) as Order;
    expect(await available('SKU-RARE')).toBe(before - 2);
    await paymentOutcome(failed, 'failed');
    await eventually('CANCELLED', async () =>
      (await getOrder(failed.id)).status === 'CANCELLED' ? true : undefined,
    );
    // orders published order.cancelled; the real inventory consumed it and gave the stock back.
    await eventually('stock released', async () =>
      (await available('SKU-RARE')) === before ? true : undefined,
    );
    // A late success does not resurrect a cancelled order.
    await payments.publish('payments', 'payment.completed', {
      orderId: failed.id,
      paymentId: 'p-2',
      amountCents: 1,
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await getOrder(failed.id)).status).toBe('CANCELLED');
  });

  test('one SKU in several lines adding up to more than 100 is placed, paid or cancelled (found by Schemathesis)', async () => {
    // Inventory merges an order's lines per SKU, so the order holds one line of 120: its events must carry it.
    const lines = [
      { sku: 'SKU-CHEAP', quantity: 60 },
      { sku: 'SKU-CHEAP', quantity: 60 },
    ];
    const paidRes = await place({ customerId: 'c-many', items: lines });
    expect(paidRes.status).toBe(201);
    const paid = (await paidRes.json()) as Order;
    expect(paid.items).toEqual([{ sku: 'SKU-CHEAP', quantity: 120, priceCents: 500 }]);
    await paymentOutcome(paid, 'completed');
    await paidEventually(paid);

    const before = await available('SKU-CHEAP');
    const cancelled = (await (await place({ customerId: 'c-many', items: lines })).json()) as Order;
    expect(await available('SKU-CHEAP')).toBe(before - 120);
    await paymentOutcome(cancelled, 'failed');
    await eventually('CANCELLED and the 120 back on the shelf', async () =>
      (await getOrder(cancelled.id)).status === 'CANCELLED' && (await available('SKU-CHEAP')) === before
        ? true
        : undefined,
    );
  });

  test('inventory unavailable is a 503 with Retry-After, and no order is stored', async () => {
    await inventory.svc.stop();
    const res = await place({ customerId: 'c', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] }, 'key-down');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fetch(`${url}/api/orders/${orderIdForKey('key-down')}`)).status).toBe(404);
  });
});
