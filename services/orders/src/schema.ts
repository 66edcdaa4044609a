/** The orders database. Migrations are append-only (see `Migration` in @flotilla/runtime). */
import type { Migration } from '@flotilla/runtime';
import type { Generated } from 'kysely';

export type OrderStatus = 'PENDING' | 'PAID' | 'CANCELLED';

export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly priceCents: number;
}

export interface OrdersTables {
  orders: {
    id: string;
    customer_id: string;
    status: OrderStatus;
    items: OrderLine[];
    total_cents: number;
    idempotency_key: string | null;
    /** SHA-256 of the request body that created the order with `idempotency_key`. */
    request_hash: string | null;
    status_reason: string | null;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create_orders',
    up: `
      create table orders (
        id text primary key,
        customer_id text not null,
        status text not null check (status in ('PENDING', 'PAID', 'CANCELLED')),
        items jsonb not null,
        total_cents integer not null check (total_cents >= 0),
        idempotency_key text unique,
        request_hash text,
        status_reason text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
    `,
  },
];
