import { afterEach, describe, expect, test } from '@jest/globals';
import { sql, type Generated } from 'kysely';
import { openDatabase, PGLITE_SETTINGS, type Database, type Migration } from '../src/database/index.js';
import type { Health, Lifecycle, ReadinessCheck, StopHook } from '../src/kit.js';
import {
  describeEachEngine,
  describePostgresTier,
  pgliteTestEngine,
  silentLog,
  type DatabaseLocation,
} from './support/db-engines.js';

interface ShopDB {
  items: {
    id: Generated<string>;
    name: string;
    price: string;
    tags: Generated<unknown>;
    created_at: Generated<Date>;
    qty: Generated<number>;
  };
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'create_items',
    up: `create table items (id bigserial primary key, name text not null unique, price numeric(10, 2) not null);
         create index items_name on items (name);`,
  },
  {
    version: 2,
    name: 'item_details',
    up: async (db) => {
      await db.schema
        .alterTable('items')
        .addColumn('tags', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('qty', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
];

const open = (location: DatabaseLocation, migrations: Migration[] = MIGRATIONS, extra: object = {}) =>
  openDatabase<ShopDB>({ ...location, migrations, log: silentLog, ...extra });

describeEachEngine('database', (engine) => {
  const opened: Database<ShopDB>[] = [];
  const track = async (promise: Promise<Database<ShopDB>>) => {
    const database = await promise;
    opened.push(database);
    return database;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
  });

  test('applies migrations once, records them, and keeps data across reopen', async () => {
    const location = await engine.fresh();
    const first = await open(location);
    expect(first.kind).toBe(engine.kind);
    expect(first.migrations.applied.filter((m) => m.scope === 'service')).toEqual([
      { scope: 'service', version: 1, name: 'create_items' },
      { scope: 'service', version: 2, name: 'item_details' },
    ]);
    await first.db.insertInto('items').values({ name: 'anchor', price: '12.50' }).execute();
    await first.close();

    const again = await track(open(location));
    expect(again.migrations.applied).toEqual([]);
    const recorded = await sql<{ scope: string; version: number; name: string }>`
      select scope, version, name from flotilla_migrations order by scope, version`.execute(again.db);
    expect(recorded.rows).toEqual([
      { scope: 'flotilla', version: 1, name: 'inbox' },
      { scope: 'flotilla', version: 2, name: 'outbox' },
      { scope: 'flotilla', version: 3, name: 'outbox_delivery' },
      { scope: 'service', version: 1, name: 'create_items' },
      { scope: 'service', version: 2, name: 'item_details' },
    ]);
    const rows = await again.db.selectFrom('items').select(['name', 'price']).execute();
    expect(rows).toEqual([{ name: 'anchor', price: '12.50' }]);
  });

  test('a later migration added in code is applied on the next start', async () => {
    const location = await engine.fresh();
    await (await open(location, MIGRATIONS.slice(0, 1))).close();
    const database = await track(open(location));
    expect(database.migrations.applied).toEqual([{ scope: 'service', version: 2, name: 'item_details' }]);
  });

  test('queries return the same JavaScript types on both engines', async () => {
    const database = await track(open(await engine.fresh()));
    const inserted = await database.db
      .insertInto('items')
      .values({ name: 'rope', price: '3.10', tags: JSON.stringify(['marine', { length: 20 }]) })
      .returning(['id', 'name', 'price', 'tags', 'created_at', 'qty'])
      .executeTakeFirstOrThrow();
    expect(typeof inserted.id).toBe('string'); // bigint comes back as a string, never a rounded number
    expect(inserted.price).toBe('3.10');
    expect(inserted.tags).toEqual(['marine', { length: 20 }]);
    expect(inserted.created_at).toBeInstanceOf(Date);
    expect(inserted.qty).toBe(0);

    const updated = await database.db
      .updateTable('items')
      .set({ qty: 5 })
      .where('name', '=', 'rope')
      .executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(1n);
    const count = await database.db
      .selectFrom('items')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(count.n).toBe('1');
  });

  test('transaction commits on success and rolls back everything on throw', async () => {
    const database = await track(open(await engine.fresh()));
    const id = await database.transaction(async (trx) => {
      const row = await trx
        .insertInto('items')
        .values({ name: 'kept', price: '1' })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    });
    expect(typeof id).toBe('string');

    const failure = new Error('handler failed');
    await expect(
      database.transaction(async (trx) => {
        await trx.insertInto('items').values({ name: 'discarded', price: '2' }).execute();
        await trx.updateTable('items').set({ qty: 99 }).where('name', '=', 'kept').execute();
        throw failure;
      }),
    ).rejects.toBe(failure);

    const rows = await database.db.selectFrom('items').select(['name', 'qty']).execute();
    expect(rows).toEqual([{ name: 'kept', qty: 0 }]);
  });

  test('afterCommit callbacks run after a commit and never after a rollback', async () => {
    const database = await track(open(await engine.fresh()));
    const calls: string[] = [];
    await database.transaction(async (trx) => {
      expect(database.afterCommit(trx, () => calls.push('committed'))).toBe(true);
      await trx.insertInto('items').values({ name: 'a', price: '1' }).execute();
      expect(calls).toEqual([]); // not before the commit
    });
    await database
      .transaction(async (trx) => {
        database.afterCommit(trx, () => calls.push('rolled back'));
        throw new Error('no');
      })
      .catch(() => undefined);
    await database.db.transaction().execute(async (trx) => {
      expect(database.afterCommit(trx, () => calls.push('foreign'))).toBe(false);
    });
    expect(calls).toEqual(['committed']);
  });

  test('a recorded migration missing from the code stops the start with the fix', async () => {
    const location = await engine.fresh();
    await (await open(location)).close();
    await expect(open(location, MIGRATIONS.slice(0, 1))).rejects.toThrow(
      /Migration 2 'item_details' \(service\) is recorded in flotilla_migrations but missing from the code.*restore it with version 2 and name 'item_details'/,
    );
  });

  test('a renamed applied migration stops the start', async () => {
    const location = await engine.fresh();
    await (await open(location)).close();
    const renamed = [MIGRATIONS[0]!, { ...MIGRATIONS[1]!, name: 'details' }];
    await expect(open(location, renamed)).rejects.toThrow(
      /Migration 2 \(service\) is named 'details' in the code but was applied as 'item_details'/,
    );
  });

  test('a new migration numbered below an applied one is refused', async () => {
    const location = await engine.fresh();
    await (await open(location, [{ ...MIGRATIONS[0]!, version: 5 }])).close();
    await expect(
      open(location, [
        { ...MIGRATIONS[0]!, version: 5 },
        { version: 3, name: 'late', up: 'select 1' },
      ]),
    ).rejects.toThrow(
      /Migration 3 'late' \(service\) is new but migration 5 is already applied.*Renumber it above 5/,
    );
  });

  test('duplicate versions in code are refused before touching the database', async () => {
    const location = await engine.fresh();
    await expect(
      open(location, [MIGRATIONS[0]!, { version: 1, name: 'other', up: 'select 1' }]),
    ).rejects.toThrow(/version 1 is used twice \('create_items' and 'other'\)/);
  });

  test('a failing migration keeps nothing of its run', async () => {
    const location = await engine.fresh();
    const broken: Migration[] = [
      ...MIGRATIONS,
      { version: 3, name: 'broken', up: 'alter table items add column qty integer' },
    ];
    await expect(open(location, broken)).rejects.toThrow(/Migration 3 'broken' \(service\) failed: .*qty/);
    const database = await track(open(location, MIGRATIONS.slice(0, 1)));
    // Nothing of the failed run was kept: the kit's tables and migration 1 are applied now, not before.
    expect(database.migrations.applied.map((m) => `${m.scope}:${m.version}`)).toEqual([
      'flotilla:1',
      'flotilla:2',
      'flotilla:3',
      'service:1',
    ]);
  });

  test('registers a readiness check and a stop hook; check fails once closed', async () => {
    const checks = new Map<string, ReadinessCheck>();
    const hooks = new Map<string, StopHook>();
    const health: Health = { addReadinessCheck: (name, check) => void checks.set(name, check) };
    const lifecycle: Lifecycle = { onStop: (name, hook) => void hooks.set(name, hook) };
    const database = await open(await engine.fresh(), MIGRATIONS, { health, lifecycle });
    await expect(Promise.resolve(checks.get('database')!())).resolves.toBeUndefined();
    await hooks.get('database')!();
    await expect(Promise.resolve(checks.get('database')!())).rejects.toThrow(/closed/);
    await database.close(); // idempotent
  });
});

describe('database [pglite] single session', () => {
  const engine = pgliteTestEngine();
  interface CounterDB {
    counter: { id: number; value: number };
  }
  const counterMigrations: Migration[] = [
    {
      version: 1,
      name: 'counter',
      up: 'create table counter (id int primary key, value int not null); insert into counter values (1, 0);',
    },
  ];

  test('concurrent transactions are serialised: no lost update, rollbacks stay isolated', async () => {
    const database = await openDatabase<CounterDB>({
      ...(await engine.fresh()),
      migrations: counterMigrations,
      log: silentLog,
    });
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          database.transaction(async (trx) => {
            const { value } = await trx
              .selectFrom('counter')
              .select('value')
              .where('id', '=', 1)
              .executeTakeFirstOrThrow();
            await new Promise((resolve) => setImmediate(resolve)); // let the other 19 try to get in between
            await trx
              .updateTable('counter')
              .set({ value: value + 1 })
              .where('id', '=', 1)
              .execute();
            if (i % 5 === 0) throw new Error(`transaction ${i} rolls back`);
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(4);
      const row = await database.db.selectFrom('counter').select('value').executeTakeFirstOrThrow();
      expect(row.value).toBe(16);
    } finally {
      await database.close();
    }
  });

  test('a query outside a transaction waits for it and never sees its uncommitted writes', async () => {
    const database = await openDatabase<CounterDB>({
      ...(await engine.fresh()),
      migrations: counterMigrations,
      log: silentLog,
    });
    try {
      let outsideDone = false;
      let outside: Promise<number> | undefined;
      await database
        .transaction(async (trx) => {
          await trx.updateTable('counter').set({ value: 42 }).execute();
          outside = database.db
            .selectFrom('counter')
            .select('value')
            .executeTakeFirstOrThrow()
            .then((r) => {
              outsideDone = true;
              return r.value;
            });
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(outsideDone).toBe(false);
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect(await outside).toBe(0);
    } finally {
      await database.close();
    }
  });
});

describe('database [pglite] settings', () => {
  const engine = pgliteTestEngine();

  test("starts with PGLITE_SETTINGS' small buffer pool and PGlite's own start parameters, new and reopened", async () => {
    expect(PGLITE_SETTINGS.shared_buffers).toBe('8MB');
    const location = await engine.fresh();
    for (const attempt of ['new', 'reopened']) {
      const database = await open(location);
      try {
        const setting = async (name: string) =>
          (await sql<{ setting: string }>`select current_setting(${name}) as setting`.execute(database.db))
            .rows[0]?.setting;
        expect([attempt, await setting('shared_buffers')]).toEqual([attempt, PGLITE_SETTINGS.shared_buffers]);
        // PGlite's defaults are kept (startParams replaces them): -c search_path=public, -c exit_on_error=false.
        expect([attempt, await setting('search_path')]).toEqual([attempt, 'public']);
        expect([attempt, await setting('exit_on_error')]).toEqual([attempt, 'off']);
      } finally {
        await database.close();
      }
    }
  });
});

describePostgresTier('database replicas', (engine) => {
  test('two replicas migrating at once apply each migration once, without error', async () => {
    const location = await engine.fresh();
    const slow: Migration[] = [
      { version: 1, name: 'slow_table', up: 'select pg_sleep(0.3); create table slow (id int primary key);' },
      { version: 2, name: 'seed', up: 'insert into slow values (1);' },
    ];
    const [a, b] = await Promise.all([open(location, slow), open(location, slow)]);
    try {
      const appliedBy = [a, b]
        .map((d) => d.migrations.applied.filter((m) => m.scope === 'service').length)
        .sort();
      expect(appliedBy).toEqual([0, 2]);
      const { rows } = await sql<{ n: string }>`select count(*) as n from slow`.execute(a.db);
      expect(rows[0]!.n).toBe('1');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('a wrong DATABASE_URL names the server and the fix', async () => {
    await expect(
      openDatabase({ url: 'postgres://nobody:wrong@127.0.0.1:1/none', migrations: [], log: silentLog }),
    ).rejects.toThrow(
      /Cannot use the database at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none \(DATABASE_URL\).*Check that the server is running/,
    );
  });
});
