import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { openDatabase, type Database, type Migration } from '../src/database/index.js';
import { createInbox } from '../src/inbox/index.js';
import { describeEachEngine, describePostgresTier, silentLog } from './support/db-engines.js';

interface PaymentsDB {
  payments: { order_id: string; amount: number };
}

// No unique constraint on purpose: only the inbox stands between a duplicate delivery and a second row.
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'payments',
    up: 'create table payments (order_id text not null, amount integer not null)',
  },
];

const event = (type = 'order.placed') => ({ id: randomUUID(), type });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function paymentsFor(database: Database<PaymentsDB>, orderId: string): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from payments where order_id = ${orderId}`.execute(database.db);
  return Number(rows[0]!.n);
}

describeEachEngine('inbox', (engine) => {
  let database: Database<PaymentsDB>;
  beforeAll(async () => {
    database = await openDatabase<PaymentsDB>({
      ...(await engine.fresh()),
      migrations: MIGRATIONS,
      log: silentLog,
    });
  });
  afterAll(() => database.close());

  test('the same event delivered twice changes the database once and the second is a duplicate', async () => {
    const inbox = createInbox({ database, consumer: 'payments.order-events' });
    const placed = event();
    const charge = (trx: Parameters<Parameters<typeof inbox.handle>[1]>[0]) =>
      trx
        .insertInto('payments')
        .values({ order_id: placed.id, amount: 100 })
        .execute()
        .then(() => 'charged');

    expect(await inbox.handle(placed, charge)).toEqual({ duplicate: false, result: 'charged' });
    expect(await inbox.handle(placed, charge)).toEqual({ duplicate: true });
    expect(await paymentsFor(database, placed.id)).toBe(1);
    expect(await inbox.processed(placed.id)).toBe(true);
  });

  test('ten concurrent deliveries of one event change the database once', async () => {
    const inbox = createInbox({ database, consumer: 'payments.concurrent' });
    const placed = event();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        inbox.handle(placed, async (trx) => {
          await trx.insertInto('payments').values({ order_id: placed.id, amount: 1 }).execute();
          await pause(20); // keep the transaction open while the other deliveries arrive
        }),
      ),
    );
    expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1);
    expect(outcomes.filter((o) => o.duplicate)).toHaveLength(9);
    expect(await paymentsFor(database, placed.id)).toBe(1);
  });

  test('a handler that throws records nothing, so the redelivery is processed', async () => {
    const inbox = createInbox({ database, consumer: 'payments.flaky' });
    const placed = event();
    await expect(
      inbox.handle(placed, async (trx) => {
        await trx.insertInto('payments').values({ order_id: placed.id, amount: 5 }).execute();
        throw new Error('card service down');
      }),
    ).rejects.toThrow('card service down');
    expect(await inbox.processed(placed.id)).toBe(false);
    expect(await paymentsFor(database, placed.id)).toBe(0);

    const retried = await inbox.handle(placed, (trx) =>
      trx.insertInto('payments').values({ order_id: placed.id, amount: 5 }).execute(),
    );
    expect(retried.duplicate).toBe(false);
    expect(await paymentsFor(database, placed.id)).toBe(1);
  });

  test('two consumers each process the same event once', async () => {
    const placed = event();
    for (const consumer of ['payments.a', 'payments.b', 'payments.a']) {
      await createInbox({ database, consumer }).handle(placed, (trx) =>
        trx.insertInto('payments').values({ order_id: placed.id, amount: 1 }).execute(),
      );
    }
    expect(await paymentsFor(database, placed.id)).toBe(2);
  });

  test('prune deletes old records of this consumer only', async () => {
    const inbox = createInbox({ database, consumer: 'payments.prune' });
    const other = createInbox({ database, consumer: 'payments.keep' });
    const placed = event();
    await inbox.handle(placed, async () => undefined);
    await other.handle(placed, async () => undefined);
    expect(await inbox.prune(new Date(Date.now() + 60_000))).toBe(1);
    expect(await inbox.processed(placed.id)).toBe(false);
    expect(await other.processed(placed.id)).toBe(true);
  });

  test('an event without an id is refused with the reason', async () => {
    const inbox = createInbox({ database, consumer: 'payments.bad' });
    await expect(inbox.handle({ id: '' }, async () => undefined)).rejects.toThrow(
      /inbox 'payments.bad': the event has no id/,
    );
    expect(() => createInbox({ database, consumer: ' ' })).toThrow(/consumer must be a non-empty name/);
  });
});

describePostgresTier('inbox concurrency', (engine) => {
  test('a concurrent duplicate waits for the first delivery and takes over when it rolls back', async () => {
    const database = await openDatabase<PaymentsDB>({
      ...(await engine.fresh()),
      migrations: MIGRATIONS,
      log: silentLog,
    });
    try {
      const inbox = createInbox({ database, consumer: 'payments.takeover' });
      const placed = event();
      let holding: () => void = () => undefined;
      const holdsKey = new Promise<void>((resolve) => (holding = resolve));
      const first = inbox.handle(placed, async (trx) => {
        await trx.insertInto('payments').values({ order_id: placed.id, amount: 1 }).execute();
        holding(); // the handler runs inside the transaction that holds the inbox key
        await pause(100);
        throw new Error('first delivery fails');
      });
      await holdsKey;
      const second = inbox.handle(placed, async (trx) => {
        await trx.insertInto('payments').values({ order_id: placed.id, amount: 2 }).execute();
        return 'second';
      });
      await expect(first).rejects.toThrow('first delivery fails');
      expect(await second).toEqual({ duplicate: false, result: 'second' });
      const { rows } = await sql<{
        amount: number;
      }>`select amount from payments where order_id = ${placed.id}`.execute(database.db);
      expect(rows).toEqual([{ amount: 2 }]);
    } finally {
      await database.close();
    }
  });
});
