/**
 * Tables of the kit itself, created in every service database by the `flotilla` migration scope:
 * the inbox (events already processed, per consumer) and the outbox (events waiting to be published,
 * published, or parked as dead letters).
 */
import type { Migration } from './migrations.js';

export const PLATFORM_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'inbox',
    up: `
      create table flotilla_inbox (
        consumer text not null,
        event_id text not null,
        event_type text,
        processed_at timestamptz not null default now(),
        primary key (consumer, event_id)
      );
      create index flotilla_inbox_processed_at on flotilla_inbox (processed_at);
    `,
  },
  {
    version: 2,
    name: 'outbox',
    up: `
      create table flotilla_outbox (
        sequence bigserial primary key,
        event_id text not null unique,
        destination_kind text not null check (destination_kind in ('topic', 'queue')),
        destination text not null,
        envelope jsonb not null,
        trace_context jsonb not null default '{}',
        created_at timestamptz not null default now(),
        attempts integer not null default 0,
        next_attempt_at timestamptz not null default now(),
        last_error text,
        sent_at timestamptz
      );
      create index flotilla_outbox_pending on flotilla_outbox (sequence) where sent_at is null;
      create index flotilla_outbox_pending_destination
        on flotilla_outbox (destination_kind, destination, sequence) where sent_at is null;
      create index flotilla_outbox_sent_at on flotilla_outbox (sent_at) where sent_at is not null;
    `,
  },
  {
    version: 3,
    name: 'outbox_delivery',
    // claimed_*: the relay's lease on rows it is publishing (claimed in a short transaction, published
    // outside it). sender_faults: failures AWS blamed on the message. dead_lettered_at: parked after too
    // many of those, until redriven.
    up: `
      alter table flotilla_outbox
        add column claimed_until timestamptz,
        add column claimed_by text,
        add column sender_faults integer not null default 0,
        add column dead_lettered_at timestamptz;
      create index flotilla_outbox_dead_letters
        on flotilla_outbox (dead_lettered_at) where dead_lettered_at is not null;
    `,
  },
];

/** Row shapes of the platform tables, for typed queries inside the kit. */
export interface PlatformTables {
  flotilla_inbox: {
    consumer: string;
    event_id: string;
    event_type: string | null;
    processed_at: Date;
  };
  flotilla_outbox: {
    sequence: string;
    event_id: string;
    destination_kind: 'topic' | 'queue';
    destination: string;
    envelope: unknown;
    trace_context: unknown;
    created_at: Date;
    attempts: number;
    next_attempt_at: Date;
    last_error: string | null;
    sent_at: Date | null;
    claimed_until: Date | null;
    claimed_by: string | null;
    sender_faults: number;
    dead_lettered_at: Date | null;
  };
}
