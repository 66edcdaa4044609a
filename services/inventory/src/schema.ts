/**
 * The inventory database: the catalogue with stock, and the reservations of stock (their lines in
 * `reservation_lines`), each under the id its client chose. Migrations are append-only (see `Migration` in
 * @flotilla/runtime).
 */
import type { Migration } from '@flotilla/runtime';
import type { Generated } from 'kysely';
import { SEED_ITEMS } from './catalogue.js';

export interface InventoryTables {
  items: { sku: string; name: string; price_cents: number; available: number };
  reservations: {
    /** Chosen by the client before its first attempt, so every retry and its release name this reservation. */
    id: string;
    /** The order the stock is reserved for; null for a tombstone (released before any reserve arrived). */
    order_id: string | null;
    total_cents: number;
    created_at: Generated<Date>;
    /** Set when the order was stored (its `order.placed` arrived): the reservation no longer expires. */
    confirmed_at: Date | null;
    /** Set when the stock went back on the shelf (or, for a tombstone, when it was refused in advance). */
    released_at: Date | null;
    /** Why it was released; null while it holds stock. See {@link ReleaseReason}. */
    release_reason: ReleaseReason | null;
  };
  reservation_lines: { reservation_id: string; sku: string; quantity: number; price_cents: number };
}

/**
 * `released`: its client gave it back (the order was not stored); `expired`: unconfirmed for longer than the
 * TTL; `cancelled`: its order was cancelled.
 */
export type ReleaseReason = 'released' | 'expired' | 'cancelled';

const sqlText = (value: string) => `'${value.replace(/'/g, "''")}'`;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create_items_and_reservations',
    up: `
      create table items (
        sku text primary key,
        name text not null,
        price_cents integer not null check (price_cents >= 0),
        available integer not null check (available >= 0)
      );
      create table reservations (
        order_id text primary key,
        total_cents integer not null,
        created_at timestamptz not null default now(),
        released_at timestamptz
      );
      create table reservation_lines (
        order_id text not null references reservations (order_id),
        sku text not null references items (sku),
        quantity integer not null check (quantity > 0),
        price_cents integer not null,
        primary key (order_id, sku)
      );
    `,
  },
  {
    // A migration runs once per database, so the catalogue is seeded on the first start only.
    version: 2,
    name: 'seed_catalogue',
    up: `insert into items (sku, name, price_cents, available) values ${SEED_ITEMS.map(
      (i) => `(${sqlText(i.sku)}, ${sqlText(i.name)}, ${i.priceCents}, ${i.available})`,
    ).join(', ')} on conflict (sku) do nothing;`,
  },
  {
    version: 3,
    name: 'reservations_cancelled_at',
    up: `alter table reservations add column cancelled_at timestamptz;`,
  },
  {
    // Reservations were keyed by order id; now by an id the client picks per attempt to place an order, so a
    // released one is never taken again (a tombstone) while the order can still be placed. Reservations from
    // before were made for orders that were stored (or leaked with no way to tell), so they count as confirmed.
    version: 4,
    name: 'reservations_by_id_with_expiry',
    up: `
      alter table reservation_lines drop constraint reservation_lines_order_id_fkey;
      alter table reservation_lines drop constraint reservation_lines_pkey;
      alter table reservation_lines rename column order_id to reservation_id;
      alter table reservations drop constraint reservations_pkey;
      alter table reservations add column id text;
      update reservations set id = order_id;
      alter table reservations alter column id set not null;
      alter table reservations add primary key (id);
      alter table reservations alter column order_id drop not null;
      alter table reservation_lines add primary key (reservation_id, sku);
      alter table reservation_lines add foreign key (reservation_id) references reservations (id);
      alter table reservations add column confirmed_at timestamptz;
      alter table reservations add column release_reason text
        check (release_reason in ('released', 'expired', 'cancelled'));
      update reservations set confirmed_at = created_at;
      update reservations set release_reason = case when cancelled_at is null then 'released' else 'cancelled' end
        where released_at is not null;
      alter table reservations drop column cancelled_at;
      alter table reservations add constraint reservations_released_with_reason
        check ((released_at is null) = (release_reason is null));
      create index reservations_by_order on reservations (order_id);
      create index reservations_unconfirmed on reservations (created_at)
        where confirmed_at is null and released_at is null;
    `,
  },
];
