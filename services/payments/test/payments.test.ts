import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { orderEvents } from '@shop/contracts';
import { main } from '../src/main.js';
import { eventually, quiet, startTestStack, type TestStack } from '@flotilla/dev/testing';
import { shop } from '../../system.js';

let stack: TestStack;
let payments: Awaited<ReturnType<typeof main>>;

beforeAll(async () => {
  stack = await startTestStack(shop);
  payments = await main({ env: stack.varsFor('payments'), manageProcess: false, logDestination: quiet });
});
afterAll(async () => {
  await payments?.svc.stop();
  await stack?.stop();
});

interface Payment {
  orderId: string;
  status: string;
  amountCents: number;
  reason?: string;
}
const chargesOf = async (orderId: string) =>
  (
    (await (await fetch(`${payments.listening.url}/internal/payments?orderId=${orderId}`)).json()) as {
      payments: Payment[];
    }
  ).payments;

const placed = (orderId: string, totalCents: number) => ({
  orderId,
  customerId: 'c-1',
  items: [{ sku: 'SKU-X', quantity: 1, priceCents: totalCents }],
  totalCents,
});

describe('payments', () => {
  test('an order is charged exactly once however often order.placed arrives', async () => {
    const orders = stack.publisherAs('orders', orderEvents);
    const first = await orders.publish('orders', 'order.placed', placed('o-1', 1500));
    await Promise.all([
      orders.publish('orders', 'order.placed', placed('o-1', 1500), { id: first.id }), // redelivery
      orders.publish('orders', 'order.placed', placed('o-1', 1500), { id: first.id }),
      orders.publish('orders', 'order.placed', placed('o-1', 1500)), // re-published under a new id
    ]);
    const charges = await eventually('a charge', async () => {
      const c = await chargesOf('o-1');
      return c.length > 0 ? c : undefined;
    });
    await new Promise((r) => setTimeout(r, 1000)); // let every copy arrive
    expect(await chargesOf('o-1')).toEqual(charges);
    expect(charges).toEqual([
      expect.objectContaining({ orderId: 'o-1', status: 'COMPLETED', amountCents: 1500 }),
    ]);
  });

  test('a charge above 50,000 cents is declined; 50,000 is not', async () => {
    const orders = stack.publisherAs('orders', orderEvents);
    await orders.publish('orders', 'order.placed', placed('o-big', 75_000));
    await orders.publish('orders', 'order.placed', placed('o-limit', 50_000));
    const big = await eventually('declined', async () => (await chargesOf('o-big'))[0]);
    expect(big).toMatchObject({ status: 'DECLINED', amountCents: 75_000 });
    expect(big.reason).toContain('50000');
    expect(await eventually('completed', async () => (await chargesOf('o-limit'))[0])).toMatchObject({
      status: 'COMPLETED',
    });
  });

  test('orderId is required to list charges (400 problem)', async () => {
    const res = await fetch(`${payments.listening.url}/internal/payments`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
