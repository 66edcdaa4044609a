/**
 * Scenario 5: SQS and SNS unreachable for 90 s (the emulator's listener closed, its connections dropped;
 * its queues and messages kept). The HTTP API keeps taking orders meanwhile (their events wait in the
 * outbox); afterwards every order completes, and no message was dead-lettered for an outage that was not
 * its fault.
 */
import { describe, expect, test } from '@jest/globals';
import type { Attempt } from './support/customer.js';
import { mixedOrder, useFaultShop } from './support/shop.js';
import { inParallel, sleep } from './support/util.js';

const OUTAGE_MS = 90_000;

describe('S5: the SQS/SNS emulator unreachable for 90 s', () => {
  const shop = useFaultShop({ name: 'emulator-outage' });

  test('orders are taken throughout the outage; then every order completes, nothing dead-lettered', async () => {
    // Orders on their way through messaging when it goes away.
    const before = await inParallel(
      Array.from({ length: 10 }, (_, i) => i),
      5,
      (i) => shop().customer.placeUntilAccepted(mixedOrder(i)),
    );
    shop().note('emulator disconnected');
    await shop().stack.emulator.disconnect();
    const during: Attempt[] = [];
    const reads: number[] = [];
    const ends = Date.now() + OUTAGE_MS;
    try {
      for (let i = 10; Date.now() < ends; i++) {
        during.push(await shop().customer.place(mixedOrder(i)));
        reads.push((await shop().customer.get(`/api/orders/${before[0]!.id}`)).status);
        await sleep(3000);
      }
    } finally {
      await shop().stack.emulator.reconnect();
      shop().note('emulator reconnected');
    }
    expect(during.length).toBeGreaterThan(10);
    // Everything at once: what the outage did to HTTP, and what it did to the books.
    const refused = during.filter((a) => a.outcome !== 'accepted');
    expect([
      ...(refused.length > 0
        ? [
            `${refused.length} of ${during.length} orders refused during the outage, e.g. ${refused[0]!.status} ${refused[0]!.problem?.detail ?? ''}`,
          ]
        : []),
      ...(reads.some((status) => status !== 200)
        ? [
            `GET /api/orders/<id> failed ${reads.filter((status) => status !== 200).length} of ${reads.length} times`,
          ]
        : []),
      ...(await shop().check()),
    ]).toEqual([]);
  }, 420_000);
});
