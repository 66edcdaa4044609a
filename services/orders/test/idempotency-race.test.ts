/**
 * Requests sharing one Idempotency-Key, against the real inventory and the real orders database.
 *
 * The first request claims the key before it touches stock; a second one with the key gets 409 while the
 * first is in progress (or 422 with another body), and the replay once the order is stored. To hold the first
 * request inside its inventory call, a real HTTP proxy in front of inventory can hold the next reservation
 * request until the test lets it go; the proxy also records the reservations and releases it forwards, so a
 * test sees that only the claimant touched stock.
 *
 * A trigger on the orders table fails every insert of a customer listed in `failing_customers`
 * (`c-db-down` always): a genuine failure to store the order.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { eventually, testEngines } from '@flotilla/dev/testing';
import { sql } from 'kysely';
import { orderIdForKey, requestHash } from '../src/place-order.js';
import { startInventoryProxy, type InventoryProxy } from './support/inventory-proxy.js';
import { startOrdersWithInventory, type OrdersWithInventory } from './support/orders-with-inventory.js';

let running: OrdersWithInventory;
let inventory: OrdersWithInventory['inventory'];
let gate: InventoryProxy;
let orders: OrdersWithInventory['orders'];

interface Answer {
  status: number;
  replayed: boolean;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function place(body: unknown, key: string): Promise<Answer> {
  const res = await fetch(`${orders.listening.url}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    replayed: res.headers.get('idempotent-replayed') === 'true',
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

/**
 * Sends `first` and holds it inside its inventory call (it has claimed the key), sends `second` with the
 * same key and waits for its answer, then lets `first` go on and waits for its answer too.
 */
async function whileInProgress(first: unknown, second: unknown, key: string): Promise<Answer[]> {
  const held = gate.hold('reservation');
  const firstAnswer = place(first, key);
  await held.reached;
  const secondAnswer = await place(second, key);
  held.letGo();
  return [await firstAnswer, secondAnswer];
}

/** Order ids of the reservation requests inventory got so far. */
const reservedOrders = () => gate.reservations.map((r) => r.orderId);
/** The release path of the `n`th reservation request inventory got. */
const releaseOf = (n: number) => `/internal/reservations/${gate.reservations[n]!.reservationId}/release`;

const available = (sku: string) => running.available(sku);

/** Makes every insert of `customerId`'s orders fail (`true`), or succeed again. */
async function failInserts(customerId: string, failing: boolean): Promise<void> {
  await (
    failing
      ? sql`insert into failing_customers values (${customerId})`
      : sql`delete from failing_customers where customer_id = ${customerId}`
  ).execute(orders.database.db);
}

/** A problem document without the members that name the request rather than the answer. */
const problem = ({ requestId: _, instance: __, ...rest }: Record<string, unknown>) => rest;

const IN_PROGRESS = {
  type: 'urn:shop:problem:idempotency-key-in-progress',
  title: 'Idempotency-Key in progress',
  status: 409,
  detail: expect.stringContaining('is still being processed'),
};

describe.each(testEngines())('orders: requests sharing one Idempotency-Key [$name]', ({ stackOptions }) => {
  beforeAll(async () => {
    running = await startOrdersWithInventory(async (inventoryUrl) => {
      gate = await startInventoryProxy(inventoryUrl);
      return gate.url;
    }, stackOptions);
    ({ inventory, orders } = running);
    await sql
      .raw(
        `create table failing_customers (customer_id text primary key);
         insert into failing_customers values ('c-db-down');
         create function fail_order_insert() returns trigger language plpgsql as $$
         begin
           if exists (select 1 from failing_customers where customer_id = new.customer_id) then
             raise exception 'injected failure: the order cannot be stored';
           end if;
           return new;
         end $$;
         create trigger fail_order_insert before insert on orders
           for each row execute function fail_order_insert();`,
      )
      .execute(orders.database.db);
  });
  afterAll(async () => {
    await running?.stop();
    await gate?.close();
  });

  beforeEach(() => {
    gate.reservations.splice(0);
    gate.releases.splice(0);
  });

  test('a request while the first with its key is in progress is a 409 and touches no stock; its retry replays', async () => {
    const before = await available('SKU-RARE');
    const body = { customerId: 'c-race', items: [{ sku: 'SKU-RARE', quantity: 2 }] };
    const [first, second] = await whileInProgress(body, body, 'race-same');
    const retried = await place(body, 'race-same');

    // One diff shows what each request answered, which touched stock and what inventory holds.
    expect({
      statuses: [first!.status, second!.status, retried.status],
      replayed: [first!.replayed, retried.replayed],
      reservations: reservedOrders(),
      releases: gate.releases,
      available: await available('SKU-RARE'),
    }).toEqual({
      statuses: [201, 409, 201],
      replayed: [false, true],
      reservations: [orderIdForKey('race-same')],
      releases: [],
      available: before - 2,
    });
    expect(problem(second!.body)).toEqual(IN_PROGRESS);
    expect(second!.retryAfter).toMatch(/^[1-9][0-9]*$/);
    expect(first!.body).toMatchObject({ id: orderIdForKey('race-same'), status: 'PENDING' });
    expect(retried.body).toEqual(first!.body);
  });

  test.each([
    [
      'the same items for another customer',
      { customerId: 'c-other', items: [{ sku: 'SKU-CHEAP', quantity: 2 }] },
    ],
    ['other items', { customerId: 'c-race', items: [{ sku: 'SKU-CHEAP', quantity: 3 }] }],
  ])(
    'a request with another body (%s) while the first is in progress gets the 422 of a mismatched replay',
    async (_, other) => {
      const key = `race-other-${other.customerId}-${other.items[0]!.quantity}`;
      const before = await available('SKU-CHEAP');
      const mine = { customerId: 'c-race', items: [{ sku: 'SKU-CHEAP', quantity: 2 }] };
      const [first, second] = await whileInProgress(mine, other, key);

      expect({
        statuses: [first!.status, second!.status],
        reservations: reservedOrders(),
        releases: gate.releases,
        available: await available('SKU-CHEAP'),
      }).toEqual({
        statuses: [201, 422],
        reservations: [orderIdForKey(key)],
        releases: [],
        available: before - 2,
      });
      const mismatchedReplay = await place(other, key);
      expect(mismatchedReplay.status).toBe(422);
      expect(problem(second!.body)).toEqual(problem(mismatchedReplay.body));
      expect(second!.body).toMatchObject({
        type: 'urn:shop:problem:idempotency-key-reused',
        orderId: orderIdForKey(key),
      });
    },
  );

  test('a genuine failure of the request holding the key gives the stock back; a waiting retry then holds it, once', async () => {
    // The race of the past: the first request fails to store its order and releases the reservation while a
    // second request with the key has reserved it too and stores its order after that release, without stock.
    const before = await available('SKU-CHEAP');
    const body = { customerId: 'c-db-blip', items: [{ sku: 'SKU-CHEAP', quantity: 7 }] };
    await failInserts('c-db-blip', true);
    const [failed, waiting] = await whileInProgress(body, body, 'blip-1');
    await failInserts('c-db-blip', false);
    const retried = await place(body, 'blip-1');

    expect({
      statuses: [waiting!.status, failed!.status, retried.status],
      replayed: retried.replayed,
      reservations: reservedOrders(),
      releases: gate.releases,
      available: await available('SKU-CHEAP'),
    }).toEqual({
      statuses: [409, 500, 201],
      replayed: false,
      reservations: [orderIdForKey('blip-1'), orderIdForKey('blip-1')],
      releases: [releaseOf(0)],
      available: before - 7,
    });
    expect(problem(waiting!.body)).toEqual(IN_PROGRESS);
    expect(retried.body).toMatchObject({
      id: orderIdForKey('blip-1'),
      items: [{ sku: 'SKU-CHEAP', quantity: 7 }],
    });
  });

  test('a claim older than the lease (its request crashed) is taken over: the order holds the stock once', async () => {
    const before = await available('SKU-CHEAP');
    const body = { customerId: 'c-crashed', items: [{ sku: 'SKU-CHEAP', quantity: 6 }] };
    const orderId = orderIdForKey('crashed-1');
    // The crashed request claimed the key an hour ago, recorded its reservation and reserved its stock, then
    // never stored the order.
    await sql`insert into idempotency_claims (key, order_id, request_hash, claimant, claimed_at)
      values ('crashed-1', ${orderId}, ${requestHash(body)}, 'crashed', now() - interval '1 hour')`.execute(
      orders.database.db,
    );
    await sql`insert into open_reservations (id, order_id, state, next_attempt_at, created_at)
      values ('crashed-reservation', ${orderId}, 'reserving', now() - interval '59 minutes',
        now() - interval '1 hour')`.execute(orders.database.db);
    const crashed = await fetch(`${inventory.listening.url}/internal/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reservationId: 'crashed-reservation', orderId, items: body.items }),
    });
    expect(crashed.status).toBe(201);

    const placed = await place(body, 'crashed-1');
    const replay = await place(body, 'crashed-1');
    // The crashed request's reservation goes back by the worker, whenever it gets to it.
    await eventually("the crashed request's stock released", async () =>
      (await available('SKU-CHEAP')) === before - 6 ? true : undefined,
    );
    expect({
      statuses: [placed.status, replay.status],
      replayed: [placed.replayed, replay.replayed],
      releases: gate.releases,
      available: await available('SKU-CHEAP'),
    }).toEqual({
      statuses: [201, 201],
      replayed: [false, true],
      releases: ['/internal/reservations/crashed-reservation/release'],
      available: before - 6,
    });
    expect(placed.body).toMatchObject({ id: orderId, items: [{ sku: 'SKU-CHEAP', quantity: 6 }] });
  });

  test('a genuine failure to store the order still gives its stock back', async () => {
    const before = await available('SKU-CHEAP');
    const failed = await place(
      { customerId: 'c-db-down', items: [{ sku: 'SKU-CHEAP', quantity: 4 }] },
      'down-1',
    );
    expect(failed.status).toBe(500);
    expect(gate.releases).toEqual([releaseOf(0)]);
    expect(await available('SKU-CHEAP')).toBe(before);
    expect((await fetch(`${orders.listening.url}/api/orders/${orderIdForKey('down-1')}`)).status).toBe(404);
  });

  // Inventory keeps the lines of the key's released reservation, so it refuses other items for that order id:
  // the request gets the 422 of a replay with another body, and the key stays free for the first body.
  test('after a genuine failure, the key with other items is the 422 of a reused key; the first body retries', async () => {
    const before = await available('SKU-CHEAP');
    const body = { customerId: 'c-db-gone', items: [{ sku: 'SKU-CHEAP', quantity: 3 }] };
    await failInserts('c-db-gone', true);
    const failed = await place(body, 'gone-1');
    await failInserts('c-db-gone', false);
    const other = await place({ ...body, items: [{ sku: 'SKU-CHEAP', quantity: 2 }] }, 'gone-1');
    const afterOther = await available('SKU-CHEAP');
    const retried = await place(body, 'gone-1');

    expect({
      statuses: [failed.status, other.status, retried.status],
      available: [afterOther, await available('SKU-CHEAP')],
    }).toEqual({ statuses: [500, 422, 201], available: [before, before - 3] });
    expect(other.body).toMatchObject({
      type: 'urn:shop:problem:idempotency-key-reused',
      orderId: orderIdForKey('gone-1'),
    });
  });

  test('a retry after a genuine failure reserves the stock again: the order holds it, once', async () => {
    const before = await available('SKU-CHEAP');
    const body = { customerId: 'c-db-flaky', items: [{ sku: 'SKU-CHEAP', quantity: 5 }] };
    await failInserts('c-db-flaky', true);
    const failed = await place(body, 'flaky-1');
    await failInserts('c-db-flaky', false);
    const retried = await place(body, 'flaky-1');
    const replay = await place(body, 'flaky-1');

    expect({
      statuses: [failed.status, retried.status, replay.status],
      replayed: [retried.replayed, replay.replayed],
      releases: gate.releases,
      available: await available('SKU-CHEAP'),
    }).toEqual({
      statuses: [500, 201, 201],
      replayed: [false, true],
      releases: [releaseOf(0)],
      available: before - 5,
    });
    expect(retried.body).toMatchObject({
      id: orderIdForKey('flaky-1'),
      status: 'PENDING',
      items: [{ sku: 'SKU-CHEAP', quantity: 5 }],
    });
    expect(replay.body).toEqual(retried.body);
  });

  test('after all of the above, the stock adds up: what inventory started with = available + held by live orders', async () => {
    expect(await running.stockProblems()).toEqual([]);
  });
});
