/**
 * The TTL of unconfirmed reservations, the last line of defence against leaked stock. Reservations are made
 * through the API, then made older in the database (the TTL is ten minutes here: no test waits for it), and
 * the sweep inventory runs by itself every second releases the ones past it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { orderEvents } from '@shop/contracts';
import { eventually, testEngines } from '@flotilla/dev/testing';
import { sql } from 'kysely';
import { startInventory, type RunningInventory } from './support/inventory-api.js';

const TTL_SECONDS = 600;

describe.each(testEngines())('reservation expiry [$name]', ({ stackOptions }) => {
  let running: RunningInventory;
  beforeAll(async () => {
    running = await startInventory(stackOptions, {
      RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
      RESERVATION_SWEEP_INTERVAL_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await running?.stop();
  });

  const available = (sku: string) => running.available(sku);
  const orders = () => running.stack.publisherAs('orders', orderEvents);
  /** Makes reservation `id` `seconds` older. */
  const age = (id: string, seconds: number) =>
    sql`update reservations set created_at = created_at - make_interval(secs => ${seconds})
      where id = ${id}`.execute(running.inventory.database.db);
  const state = async (id: string) =>
    (
      await sql<{
        confirmed: boolean;
        release_reason: string | null;
      }>`select confirmed_at is not null as confirmed, release_reason from reservations where id = ${id}`.execute(
        running.inventory.database.db,
      )
    ).rows[0];
  /** Waits until reservation `id` is released for `reason`. */
  const releasedFor = (id: string, reason: string) =>
    eventually(`${id} ${reason}`, async () =>
      (await state(id))?.release_reason === reason ? true : undefined,
    );
  /** Reserves `items` under `id` for `orderId`, then lets the reservation grow older than the TTL and expire. */
  const reserveAndExpire = async (
    id: string,
    orderId: string,
    items: { sku: string; quantity: number }[],
  ) => {
    expect((await running.reserve(id, orderId, items)).status).toBe(201);
    await age(id, TTL_SECONDS + 1);
    await releasedFor(id, 'expired');
  };
  const placed = (orderId: string, items: { sku: string; quantity: number; priceCents: number }[]) =>
    orders().publish('orders', 'order.placed', {
      orderId,
      customerId: 'c-1',
      items,
      totalCents: items.reduce((sum, l) => sum + l.quantity * l.priceCents, 0),
    });

  test('an unconfirmed reservation past the TTL gives its stock back; a younger or confirmed one keeps it', async () => {
    const rare = [{ sku: 'SKU-RARE', quantity: 1 }];
    expect((await running.reserve('x-old', 'o-old', rare)).status).toBe(201);
    expect((await running.reserve('x-young', 'o-young', rare)).status).toBe(201);
    expect((await running.reserve('x-placed', 'o-placed', rare)).status).toBe(201);
    await placed('o-placed', [{ sku: 'SKU-RARE', quantity: 1, priceCents: 1000 }]);
    await eventually('o-placed confirmed', async () =>
      (await state('x-placed'))?.confirmed ? true : undefined,
    );
    await age('x-old', TTL_SECONDS + 1);
    await age('x-young', TTL_SECONDS - 60);
    await age('x-placed', TTL_SECONDS * 2);

    await releasedFor('x-old', 'expired');
    expect(await available('SKU-RARE')).toBe(5 - 2);
    expect({ young: await state('x-young'), placed: await state('x-placed') }).toEqual({
      young: { confirmed: false, release_reason: null },
      placed: { confirmed: true, release_reason: null },
    });
    // Expired is released: a late repeat of it takes nothing.
    expect((await running.reserve('x-old', 'o-old', rare)).status).toBe(409);
    expect(await available('SKU-RARE')).toBe(3);
  });

  test('an order.placed later than the TTL takes the stock of its expired reservation again', async () => {
    const before = await available('SKU-CHEAP');
    const items = [{ sku: 'SKU-CHEAP', quantity: 4 }];
    await reserveAndExpire('x-late', 'o-late', items);
    expect(await available('SKU-CHEAP')).toBe(before);

    await placed('o-late', [{ sku: 'SKU-CHEAP', quantity: 4, priceCents: 500 }]);
    await eventually('x-late confirmed', async () => ((await state('x-late'))?.confirmed ? true : undefined));
    expect(await state('x-late')).toEqual({ confirmed: true, release_reason: null });
    expect(await available('SKU-CHEAP')).toBe(before - 4);
  });

  test('an expired reservation of a cancelled order stays released, even when order.placed comes after', async () => {
    const before = await available('SKU-CHEAP');
    const items = [{ sku: 'SKU-CHEAP', quantity: 2 }];
    await reserveAndExpire('x-gone', 'o-gone', items);
    await orders().publish('orders', 'order.cancelled', { orderId: 'o-gone', reason: 'declined', items });
    await releasedFor('x-gone', 'cancelled');
    const late = await placed('o-gone', [{ sku: 'SKU-CHEAP', quantity: 2, priceCents: 500 }]);
    // Handled once its inbox entry exists; the stock stays on the shelf.
    await eventually('the late order.placed handled', async () =>
      (
        await sql<{
          n: number;
        }>`select count(*)::int as n from flotilla_inbox where event_id = ${late.id}`.execute(
          running.inventory.database.db,
        )
      ).rows[0]!.n > 0
        ? true
        : undefined,
    );
    expect(await state('x-gone')).toEqual({ confirmed: false, release_reason: 'cancelled' });
    expect(await available('SKU-CHEAP')).toBe(before);
  });
});
