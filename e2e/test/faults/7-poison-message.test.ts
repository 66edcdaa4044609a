/**
 * Scenario 7: poison messages. One is not an event at all (on payments' queue); one is a valid
 * `payment.completed` for an order that does not exist, which orders' handler refuses while everything is
 * healthy (on orders' queue). Each ends in its dead-letter queue quickly, without holding back the orders
 * right behind it; `make dlq` shows each with its reason; `make redrive` moves one back to its queue (where
 * it fails again, and is dead-lettered again).
 */
import { describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { eventually } from '@flotilla/dev/testing';
import { mixedOrder, useFaultShop } from './support/shop.js';
import { inParallel } from './support/util.js';

describe('S7: poison messages', () => {
  const shop = useFaultShop({ name: 'poison-message' });

  /** The dead letter's failure attributes, peeked: received, then made visible again at once. */
  async function deadLetter(queue: string): Promise<{ reason?: string; at?: string }> {
    const QueueUrl = shop().queue(queue).dlq.url;
    const { Messages } = await shop().sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    const message = Messages?.[0];
    if (message?.ReceiptHandle)
      await shop().sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    const attributes = message?.MessageAttributes ?? {};
    return { reason: attributes['failure-reason']?.StringValue, at: attributes['failure-at']?.StringValue };
  }
  const inDeadLetters = (queue: string, after = '') =>
    eventually(
      `a dead letter in ${queue}'s DLQ`,
      async () => {
        const letter = await deadLetter(queue);
        return letter.at && letter.at > after ? letter : undefined;
      },
      60_000,
    );

  test('each poison message is dead-lettered with its reason, and the orders behind it complete', async () => {
    await shop().sqs.send(
      new SendMessageCommand({
        QueueUrl: shop().queue('payments/orders').url,
        MessageBody: 'this is not an event',
      }),
    );
    const ghost = {
      id: randomUUID(),
      type: 'payment.completed',
      source: 'payments',
      time: new Date().toISOString(),
      data: { orderId: randomUUID(), paymentId: randomUUID(), amountCents: 500 },
    };
    await shop().sqs.send(
      new SendMessageCommand({
        QueueUrl: shop().queue('orders/payments').url,
        MessageBody: JSON.stringify(ghost),
        MessageAttributes: { type: { DataType: 'String', StringValue: ghost.type } },
      }),
    );
    // Right behind the poison: these must not wait for it.
    await inParallel(
      Array.from({ length: 10 }, (_, i) => i),
      5,
      (i) => shop().customer.placeUntilAccepted(mixedOrder(i)),
    );
    expect((await inDeadLetters('payments/orders')).reason).toMatch(/^invalid-message: /);
    expect((await inDeadLetters('orders/payments')).reason).toMatch(
      new RegExp(`^non-retryable: .*${ghost.data.orderId}.*does not exist`),
    );
    for (const id of shop().customer.accepted.keys())
      await eventually(`order ${id} final`, async () =>
        ['PAID', 'CANCELLED'].includes((await shop().status(id)) ?? '') ? true : undefined,
      );
  }, 180_000);

  test('make dlq lists both with their reasons; make redrive moves one back to its queue', async () => {
    const listed = await shop().dlqCli('list');
    expect(listed.code).toBe(0);
    const row = (queue: string) => listed.output.split('\n').find((l) => l.startsWith(`${queue} `)) ?? '';
    expect(row('payments/orders')).toMatch(/\s1\s+\d+\s+.*invalid-message: /);
    expect(row('orders/payments')).toMatch(/\s1\s+\d+\s+payment\.completed .*non-retryable: /);

    const redriveStarted = new Date().toISOString();
    const redriven = await shop().dlqCli('redrive', 'payments/orders');
    expect(redriven).toMatchObject({ code: 0 });
    expect(redriven.output).toMatch(/-> shop-local-payments-orders: moved 1, failed 0/);
    // Back on its queue, the message is still no event: consumed and dead-lettered again, anew.
    expect((await inDeadLetters('payments/orders', redriveStarted)).reason).toMatch(/^invalid-message: /);
  }, 180_000);

  test('nothing lost, nothing twice; only the two poison messages in dead-letter queues', async () => {
    expect(await shop().check({ deadLetters: { 'payments/orders': 1, 'orders/payments': 1 } })).toEqual([]);
  }, 300_000);
});
