/**
 * Scenario 8: a hostile input corpus through the gateway (malformed JSON, wrong types, NUL and lone
 * surrogates, invalid percent-encoding, huge bodies and headers, deep nesting, huge numbers, unknown
 * fields, path traversal, injection strings, wrong content types). Every answer is a 4xx; afterwards no
 * service logged a 5xx or an error, no circuit breaker opened, nothing was written, and every service
 * still serves: the next valid order is placed and paid.
 */
import { describe, expect, test } from '@jest/globals';
import { HOSTILE_CORPUS, UNKNOWN_FIELDS, type HostileRequest } from './support/hostile-input.js';
import { rawRequest } from './support/raw-http.js';
import { useFaultShop } from './support/shop.js';

describe('S8: hostile input through the gateway', () => {
  const shop = useFaultShop({ name: 'hostile-input' });

  /** Sends each request, one at a time; those not answered with a 4xx, as `name: status body`. */
  async function notRefused(corpus: readonly HostileRequest[]): Promise<string[]> {
    const wrong: string[] = [];
    for (const req of corpus) {
      const res = await rawRequest(shop().stack.gatewayUrl, req);
      if (res.status < 400 || res.status >= 500)
        wrong.push(`${req.name}: ${res.status} ${res.body.slice(0, 160)}`);
    }
    return wrong;
  }

  test(`the corpus (${HOSTILE_CORPUS.length} requests) gets only 4xx answers`, async () => {
    shop().note('hostile corpus');
    expect(await notRefused(HOSTILE_CORPUS)).toEqual([]);
  }, 180_000);

  test(`orders with fields no client sets (${UNKNOWN_FIELDS.length}) are refused with a 4xx, not quietly trimmed`, async () => {
    expect(await notRefused(UNKNOWN_FIELDS)).toEqual([]);
  }, 60_000);

  test('afterwards: no 5xx or error in any log, no breaker opened, every service serving', async () => {
    const control = await shop().customer.place([{ sku: 'SKU-CHEAP', quantity: 1 }]);
    expect({ status: control.status, problem: control.problem }).toEqual({ status: 201, problem: undefined });
    for (const service of ['orders', 'inventory', 'payments', 'notifications'])
      expect({ service, ready: await shop().ready(service) }).toEqual({ service, ready: true });
    expect((await shop().customer.get('/api/inventory/items/SKU-CHEAP')).status).toBe(200);
    const describe = (r: Record<string, unknown>) =>
      `${String(r.service)}: ${String(r.status ?? r.level)} ${String(r.method ?? '')} ${String(r.path ?? '')} ${String(r.msg)}`;
    expect(shop().serverErrors().map(describe)).toEqual([]);
    expect(shop().breakerOpenings().map(describe)).toEqual([]);
  }, 120_000);

  test('nothing written but the valid order: the books hold it alone', async () => {
    expect(await shop().check()).toEqual([]);
  }, 300_000);
});
