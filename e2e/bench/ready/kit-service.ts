/**
 * A kit service on embedded defaults, started like a service's main.ts: createService, then its PGlite
 * database from DATABASE_DIR (a copy of the cached template on first start) with one migration, its stop
 * hook and readiness check registered, then listen. `/readyz` answers 200 once all of that is done.
 */
import { createService, useDatabase } from '@flotilla/runtime';

const svc = createService({ name: 'catalog' });
// As a shop service's main.ts does it: DATABASE_DIR from envFor, a template copy on first start.
await useDatabase(svc, {
  migrations: [
    { version: 1, name: 'create_items', up: 'create table items (id text primary key, name text not null)' },
  ],
});
svc.router.get('/api/items/:id', (req, res) => {
  res.json({ id: req.params.id });
});
await svc.start();
