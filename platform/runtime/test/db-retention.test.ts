/**
 * Retention of the kit's tables runs by itself in every service that uses `useDatabase`: processed inbox
 * entries older than the inbox retention, sent outbox rows older than a day and dead letters older than
 * theirs are deleted, in batches, round after round, while the tables keep growing; newer rows, pending
 * rows and other consumers' fresh entries stay.
 */
import { afterEach, expect, test } from '@jest/globals';
import { sql, type Kysely } from 'kysely';
import { createService, useDatabase, type Database, type Service } from '../src/index.js';
import { describeEachEngine, type DatabaseLocation } from './support/db-engines.js';
import { memoryLog } from './support/memory-log.js';
import { until } from './support/messaging-queues.js';

const HOUR = 3_600_000;

describeEachEngine('retention', (engine) => {
  let svc: Service | undefined;
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  async function start(location: DatabaseLocation, env: Record<string, string> = {}) {
    svc = createService({
      name: 'keeper',
      manageProcess: false,
      logDestination: memoryLog(),
      env: {
        SERVICE_NAME: 'keeper',
        PORT: '0',
        FLOTILLA_ENVIRONMENT: 'test',
        OTEL_SDK_DISABLED: 'true',
        ...('url' in location ? { DATABASE_URL: location.url } : { DATABASE_DIR: location.dir }),
        ...env,
      },
    });
    const database = await useDatabase(svc, {
      migrations: [],
      retention: { intervalMs: 100, batchSize: 200 },
    });
    await svc.start();
    return database;
  }

  /** Adds `count` processed inbox entries and sent outbox rows (and, with `dead`, parked ones) `ageHours` old. */
  async function grow(db: Kysely<unknown>, count: number, ageHours: number, tag: string, dead = true) {
    const at = sql`now() - ${ageHours * HOUR} * interval '1 millisecond'`;
    await sql`
      insert into flotilla_inbox (consumer, event_id, processed_at)
      select 'keeper.orders', ${tag} || '-' || n, ${at} from generate_series(1, ${count}) as n`.execute(db);
    await sql`
      insert into flotilla_outbox (event_id, destination_kind, destination, envelope, sent_at)
      select ${tag} || '-sent-' || n, 'topic', 'orders', '{}'::jsonb, ${at} from generate_series(1, ${count}) as n`.execute(
      db,
    );
    if (!dead) return;
    await sql`
      insert into flotilla_outbox (event_id, destination_kind, destination, envelope, dead_lettered_at)
      select ${tag} || '-dead-' || n, 'topic', 'orders', '{}'::jsonb, ${at} from generate_series(1, ${count}) as n`.execute(
      db,
    );
  }

  async function counts(db: Kysely<unknown>) {
    const { rows } = await sql<{ inbox: string; sent: string; dead: string; pending: string }>`
      select (select count(*) from flotilla_inbox) as inbox,
        (select count(*) from flotilla_outbox where sent_at is not null) as sent,
        (select count(*) from flotilla_outbox o where (to_jsonb(o) ->> 'dead_lettered_at') is not null) as dead,
        (select count(*) from flotilla_outbox o
          where sent_at is null and (to_jsonb(o) ->> 'dead_lettered_at') is null) as pending`.execute(db);
    const r = rows[0]!;
    return { inbox: Number(r.inbox), sent: Number(r.sent), dead: Number(r.dead), pending: Number(r.pending) };
  }

  test('deletes inbox entries and sent outbox rows past the default retention, round after round as the tables grow', async () => {
    const database: Database<unknown> = await start(await engine.fresh());
    const db = database.db as Kysely<unknown>;
    // Within every retention: 2 h old. A pending row, however old, is never deleted.
    await grow(db, 5, 2, 'fresh', false);
    await sql`
      insert into flotilla_outbox (event_id, destination_kind, destination, envelope, created_at)
      values ('pending-1', 'topic', 'orders', '{}'::jsonb, now() - interval '30 days')`.execute(db);
    // Past each default: inbox 15 days, sent 1 day. 16 days is past both.
    await grow(db, 700, 16 * 24, 'old-1', false);
    await until(async () => {
      const c = await counts(db);
      return c.inbox === 5 && c.sent === 5;
    }, 20_000);
    // The tables keep growing: the next rounds delete the new old rows too, with no call from the service.
    await grow(db, 450, 16 * 24, 'old-2', false);
    // Between the defaults: 2 days old is past the sent retention only.
    await sql`
      insert into flotilla_inbox (consumer, event_id, processed_at)
      values ('keeper.payments', 'two-days', now() - interval '2 days')`.execute(db);
    await until(async () => {
      const c = await counts(db);
      return c.inbox === 6 && c.sent === 5;
    }, 20_000);
    expect(await counts(db)).toEqual({ inbox: 6, sent: 5, dead: 0, pending: 1 });
  }, 60_000);

  test('deletes outbox dead letters past their retention (14 days), and inbox entries past theirs (15 days), not before', async () => {
    const database: Database<unknown> = await start(await engine.fresh());
    const db = database.db as Kysely<unknown>;
    await grow(db, 4, 13 * 24, 'thirteen-days');
    await grow(db, 300, 20 * 24, 'twenty-days');
    await until(async () => {
      const c = await counts(db);
      return c.inbox === 4 && c.sent === 0 && c.dead === 4;
    }, 20_000);
    expect(await counts(db)).toEqual({ inbox: 4, sent: 0, dead: 4, pending: 0 });
  }, 60_000);

  test('the retention periods are the service’s variables', async () => {
    const database: Database<unknown> = await start(await engine.fresh(), {
      INBOX_RETENTION_HOURS: '1',
      OUTBOX_SENT_RETENTION_HOURS: '0', // 0: kept forever
      OUTBOX_DEAD_LETTER_RETENTION_HOURS: '1',
    });
    const db = database.db as Kysely<unknown>;
    await grow(db, 3, 2, 'two-hours');
    await grow(db, 3, 0.5, 'half-hour');
    await until(async () => {
      const c = await counts(db);
      return c.inbox === 3 && c.dead === 3;
    }, 20_000);
    expect(await counts(db)).toEqual({ inbox: 3, sent: 6, dead: 3, pending: 0 });
  }, 60_000);
});
