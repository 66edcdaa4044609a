/** The orders database. Migrations are append-only (see `Migration` in @flotilla/runtime). */
import type { Migration, SavedTrace } from '@flotilla/runtime';
import type { ColumnType, Generated } from 'kysely';

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
  /** Idempotency-Keys whose request is placing its order right now (see `idempotency-claim.ts`). */
  idempotency_claims: {
    key: string;
    /** The order id derived from the key (the reservation the claimant acts on). */
    order_id: string;
    /** SHA-256 of the claimant's request body, to tell a repeat from another request under the key. */
    request_hash: string;
    /** Unique per claiming request: tells the claim's holder from a request that held it before a take-over. */
    claimant: string;
    claimed_at: Generated<Date>;
  };
  /**
   * Reservations in inventory that no stored order holds yet (see `open-reservations.ts`): written before the
   * first reserve attempt, deleted in the transaction that stores the order, or once inventory confirmed
   * their release.
   */
  open_reservations: {
    /** The reservation id orders sends to inventory. */
    id: string;
    order_id: string;
    /** `reserving`: its request is placing the order; `releasing`: to be given back to inventory. */
    state: 'reserving' | 'releasing';
    /** Release attempts made so far. */
    attempts: Generated<number>;
    /** `reserving`: when its request counts as gone; `releasing`: when the next release attempt is due. */
    next_attempt_at: Date;
    last_error: string | null;
    /** The trace of the request that opened it: a later release by the worker is traced there. */
    trace_context: ColumnType<SavedTrace, string, string>;
    created_at: Generated<Date>;
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
  {
    version: 2,
    name: 'create_idempotency_claims',
    up: `
      create table idempotency_claims (
        key text primary key,
        order_id text not null,
        request_hash text not null,
        claimant text not null,
        claimed_at timestamptz not null default now()
      );
    `,
  },
  {
    version: 3,
    name: 'create_open_reservations',
    up: `
      create table open_reservations (
        id text primary key,
        order_id text not null,
        state text not null check (state in ('reserving', 'releasing')),
        attempts integer not null default 0,
        next_attempt_at timestamptz not null,
        last_error text,
        trace_context jsonb not null default '{}',
        created_at timestamptz not null default now()
      );
      create index open_reservations_due on open_reservations (next_attempt_at);
    `,
  },
];
