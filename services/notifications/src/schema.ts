/** The notifications database: one notification per order and outcome (unique constraint). */
import type { Migration } from '@flotilla/runtime';
import type { Generated } from 'kysely';

export type Outcome = 'PAID' | 'CANCELLED';

export interface NotificationsTables {
  notifications: {
    id: string;
    order_id: string;
    outcome: Outcome;
    channel: 'email';
    message: string;
    created_at: Generated<Date>;
  };
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create_notifications',
    up: `
      create table notifications (
        id text primary key,
        order_id text not null,
        outcome text not null check (outcome in ('PAID', 'CANCELLED')),
        channel text not null,
        message text not null,
        created_at timestamptz not null default now(),
        unique (order_id, outcome)
      );
    `,
  },
];
