/**
 * The ready benchmark's kit service, started like a service's main.ts: createService, then (when the model
 * gave it a database, so envFor set DATABASE_DIR) its PGlite database from DATABASE_DIR (a copy of the
 * cached template on first start) with one migration, its stop hook and readiness check, then listen.
 * `/readyz` answers 200 once all of that is done. Self-contained (packages only), so the benchmark can
 * run it compiled, without tsx.
 */
import { ENV } from '@flotilla/model';
import { createService, useDatabase } from '@flotilla/runtime';

const svc = createService({ name: 'catalog' });
if (svc.env[ENV.databaseDir] !== undefined) {
  await useDatabase(svc, {
    migrations: [
      {
        version: 1,
        name: 'create_items',
        up: 'create table items (id text primary key, name text not null)',
      },
    ],
  });
}
svc.router.get('/api/items/:id', (req, res) => {
  res.json({ id: req.params.id });
});
await svc.start();
