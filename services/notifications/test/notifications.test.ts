import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { orderEvents } from '@shop/contracts';
import { main } from '../src/main.js';
import { eventually, quiet, startTestStack, type TestStack } from '@flotilla/dev/testing';
import { shop } from '../../system.js';

let stack: TestStack;
let notifications: Awaited<ReturnType<typeof main>>;

beforeAll(async () => {
  stack = await startTestStack(shop);
  notifications = await main({
    env: stack.varsFor('notifications'),
    manageProcess: false,
    logDestination: quiet,
  });
});
afterAll(async () => {
  await notifications?.svc.stop();
  await stack?.stop();
});

interface Notification {
  orderId: string;
  outcome: string;
  channel: string;
  message: string;
}
const list = async (orderId: string) => {
  const res = await fetch(`${notifications.listening.url}/api/notifications?orderId=${orderId}`);
  return ((await res.json()) as { notifications: Notification[] }).notifications;
};

describe('notifications', () => {
  test('one notification per order and outcome, however often the event arrives', async () => {
    const orders = stack.publisherAs('orders', orderEvents);
    const paid = { orderId: 'o-1', paymentId: 'p-1', totalCents: 1500 };
    const sent = await orders.publish('orders', 'order.paid', paid);
    await orders.publish('orders', 'order.paid', paid, { id: sent.id });
    await orders.publish('orders', 'order.paid', paid);
    await orders.publish('orders', 'order.cancelled', {
      orderId: 'o-2',
      reason: 'payment declined',
      items: [{ sku: 'SKU-LUXURY', quantity: 1 }],
    });
    await eventually('both notifications', async () =>
      (await list('o-1')).length > 0 && (await list('o-2')).length > 0 ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 1000)); // let every copy arrive
    const forPaid = await list('o-1');
    expect(forPaid).toEqual([expect.objectContaining({ orderId: 'o-1', outcome: 'PAID', channel: 'email' })]);
    expect(forPaid[0]!.message).toContain('15.00');
    expect(await list('o-2')).toEqual([expect.objectContaining({ outcome: 'CANCELLED' })]);
    expect(await list('o-unknown')).toEqual([]);
  });

  test('orderId is required (400 problem)', async () => {
    const res = await fetch(`${notifications.listening.url}/api/notifications`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
