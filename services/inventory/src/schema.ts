/**
 * The inventory database: the catalogue with stock, and one reservation per order (its lines in
 * `reservation_lines`). Migrations are append-only (see `Migration` in @flotilla/runtime).
 */
import type { Migration } from '@flotilla/runtime';
import type { Generated } from 'kysely';
import { SEED_ITEMS } from './catalogue.js';

export interface InventoryTables {
  items: { sku: string; name: string; price_cents: number; available: number };
  reservations: {
    order_id: string;
    total_cents: number;
    created_at: Generated<Date>;
    released_at: Date | null;
    /** Set when the order was cancelled: its released stock is never taken again (see stock.ts `reserve`). */
    cancelled_at: Date | null;
  };
  reservation_lines: { order_id: string; sku: string; quantity: number; price_cents: number };
}

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
];
