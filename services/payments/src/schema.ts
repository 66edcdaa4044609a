/** The payments database: one charge per order, enforced by a unique constraint. */
import type { Migration } from '@flotilla/runtime';
import type { Generated } from 'kysely';

export interface PaymentsTables {
  payments: {
    id: string;
    order_id: string;
    amount_cents: number;
    status: 'COMPLETED' | 'DECLINED';
    reason: string | null;
    created_at: Generated<Date>;
  };
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create_payments',
    up: `
      create table payments (
        id text primary key,
        order_id text not null unique,
        amount_cents integer not null check (amount_cents >= 0),
        status text not null check (status in ('COMPLETED', 'DECLINED')),
        reason text,
        created_at timestamptz not null default now()
      );
    `,
  },
];
