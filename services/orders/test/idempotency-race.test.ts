/**
 * Two requests racing on one Idempotency-Key, against the real inventory and the real orders database.
 *
 * Both racers derive the same order id, so inventory holds ONE reservation for both (it reserves once per
 * order id). Two things make the race deterministic:
 * - a real HTTP proxy in front of inventory holds reservations until every racer has asked for one, so every
 *   racer has passed the "already placed?" check and reserved before any of them stores the order;
 * - a trigger on the orders table makes the loser's insert fail with a unique violation once the winner's
 *   order exists, as a plain INSERT (or a serialization failure, a dropped connection) does on a server.
 *   PGlite runs one transaction at a time, so without it the loser's ON CONFLICT DO NOTHING never fails.
 * The same trigger fails every insert of a customer listed in `failing_customers` (`c-db-down` always): a
 * genuine failure, not a lost race.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { peerUrlVar } from '@flotilla/model';
import { quiet, startTestStack, type TestStack } from '@flotilla/dev/testing';
import { sql } from 'kysely';
import { main as inventoryMain } from '../../inventory/src/main.js';
import { shop } from '../../system.js';
import { main } from '../src/main.js';
import { orderIdForKey } from '../src/place-order.js';

/** A proxy to inventory that can hold reservation requests, and records the releases it forwards. */
interface InventoryGate {
  readonly url: string;
  /** Holds the next reservation requests until `count` have arrived, then forwards them all. */
  holdReservations(count: number): void;
  /** Paths of the release calls forwarded so far. */
  readonly releases: string[];
  close(): Promise<void>;
}

/** Headers of one hop, or that fetch recomputes (it decodes the body, so its length and encoding change). */
const NOT_FORWARDED = ['host', 'connection', 'content-length', 'transfer-encoding', 'content-encoding'];

async function startInventoryGate(upstream: string): Promise<InventoryGate> {
  let holdUntil = 0;
  let held: (() => void)[] = [];
  const releases: string[] = [];
  const waitForOthers = () =>
    new Promise<void>((resolve) => {
      held.push(resolve);
      if (held.length < holdUntil) return;
      for (const go of held) go();
      held = [];
      holdUntil = 0;
    });
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (req.method === 'POST' && req.url === '/internal/reservations' && holdUntil > 0)
        await waitForOthers();
      if (req.url?.endsWith('/release')) releases.push(req.url);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !NOT_FORWARDED.includes(name)) headers.set(name, value);
      }
      const answer = await fetch(`${upstream}${req.url}`, {
        method: req.method!,
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!NOT_FORWARDED.includes(name)) out[name] = value;
      });
      res.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
    })().catch((error: unknown) => res.destroy(error as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holdReservations: (count) => void (holdUntil = count),
    releases,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let stack: TestStack;
let inventory: Awaited<ReturnType<typeof inventoryMain>>;
let gate: InventoryGate;
let orders: Awaited<ReturnType<typeof main>>;

beforeAll(async () => {
  stack = await startTestStack(shop);
  inventory = await inventoryMain({
    env: stack.varsFor('inventory'),
    manageProcess: false,
    logDestination: quiet,
  });
  gate = await startInventoryGate(inventory.listening.url);
  orders = await main({
    env: stack.varsFor('orders', { [peerUrlVar('inventory')]: gate.url }),
    manageProcess: false,
    logDestination: quiet,
  });
  await sql
    .raw(
      `create table failing_customers (customer_id text primary key);
       insert into failing_customers values ('c-db-down');
       create function fail_order_insert() returns trigger language plpgsql as $$
       begin
         if exists (select 1 from failing_customers where customer_id = new.customer_id) then
           raise exception 'injected failure: the order cannot be stored';
         end if;
         if exists (select 1 from orders where id = new.id) then
           raise exception 'duplicate key value violates unique constraint "orders_pkey"'
             using errcode = 'unique_violation';
         end if;
         return new;
       end $$;
       create trigger fail_order_insert before insert on orders
         for each row execute function fail_order_insert();`,
    )
    .execute(orders.database.db);
});
afterAll(async () => {
  await orders?.svc.stop();
  await gate?.close();
  await inventory?.svc.stop();
  await stack?.stop();
});

interface Answer {
  status: number;
  replayed: boolean;
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
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** Both bodies sent at once; both reserve before either stores its order. */
function race(first: unknown, second: unknown, key: string): Promise<Answer[]> {
  gate.holdReservations(2);
  return Promise.all([place(first, key), place(second, key)]);
}

const available = async (sku: string) =>
  (
    (await (await fetch(`${inventory.listening.url}/api/inventory/items/${sku}`)).json()) as {
      available: number;
    }
  ).available;

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

describe('orders: requests racing on one Idempotency-Key', () => {
  beforeEach(() => void gate.releases.splice(0));

  test('the loser answers like a replay of the winner and releases nothing: one reservation', async () => {
    const before = await available('SKU-RARE');
    const body = { customerId: 'c-race', items: [{ sku: 'SKU-RARE', quantity: 2 }] };
    const answers = await race(body, body, 'race-same');

    // One diff shows what each racer answered, what was released and what inventory holds.
    expect({
      statuses: answers.map((a) => a.status),
      releases: gate.releases,
      available: await available('SKU-RARE'),
    }).toEqual({ statuses: [201, 201], releases: [], available: before - 2 });
    expect(answers.map((a) => a.replayed).sort()).toEqual([false, true]);
    expect(answers[0]!.body).toEqual(answers[1]!.body);
    expect(answers[0]!.body).toMatchObject({ id: orderIdForKey('race-same'), status: 'PENDING' });
    const replay = await place(body, 'race-same');
    expect(replay).toEqual({ status: 201, replayed: true, body: answers[0]!.body });
  });

  test.each([
    [
      'the same items for another customer',
      { customerId: 'c-other', items: [{ sku: 'SKU-CHEAP', quantity: 2 }] },
    ],
    ['other items', { customerId: 'c-race', items: [{ sku: 'SKU-CHEAP', quantity: 3 }] }],
  ])('a loser with another body (%s) gets the 422 of a mismatched replay', async (_, other) => {
    const key = `race-other-${other.customerId}-${other.items[0]!.quantity}`;
    const before = await available('SKU-CHEAP');
    const mine = { customerId: 'c-race', items: [{ sku: 'SKU-CHEAP', quantity: 2 }] };
    const answers = await race(mine, other, key);

    const winner = answers.find((a) => a.status === 201);
    const loser = answers.find((a) => a !== winner);
    const reserved = (winner?.body as { items: { quantity: number }[] } | undefined)?.items[0]!.quantity ?? 0;
    expect({
      statuses: [winner?.status, loser?.status],
      releases: gate.releases,
      available: await available('SKU-CHEAP'),
    }).toEqual({ statuses: [201, 422], releases: [], available: before - reserved });
    const loserBody = winner === answers[0] ? other : mine;
    const mismatchedReplay = await place(loserBody, key);
    expect(mismatchedReplay.status).toBe(422);
    expect(problem(loser!.body)).toEqual(problem(mismatchedReplay.body));
    expect(loser!.body).toMatchObject({
      type: 'urn:shop:problem:idempotency-key-reused',
      orderId: orderIdForKey(key),
    });
  });

  test('a genuine failure to store the order still gives its stock back', async () => {
    const before = await available('SKU-CHEAP');
    const failed = await place(
      { customerId: 'c-db-down', items: [{ sku: 'SKU-CHEAP', quantity: 4 }] },
      'down-1',
    );
    expect(failed.status).toBe(500);
    expect(gate.releases).toEqual([`/internal/reservations/${orderIdForKey('down-1')}/release`]);
    expect(await available('SKU-CHEAP')).toBe(before);
    expect((await fetch(`${orders.listening.url}/api/orders/${orderIdForKey('down-1')}`)).status).toBe(404);
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
      releases: [`/internal/reservations/${orderIdForKey('flaky-1')}/release`],
      available: before - 5,
    });
    expect(retried.body).toMatchObject({
      id: orderIdForKey('flaky-1'),
      status: 'PENDING',
      items: [{ sku: 'SKU-CHEAP', quantity: 5 }],
    });
    expect(replay.body).toEqual(retried.body);
  });
});
