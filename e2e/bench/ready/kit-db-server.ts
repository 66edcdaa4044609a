/**
 * A kit service on embedded defaults, started like a service's main.ts: createService, then its PGlite
 * database from DATABASE_DIR (a copy of the cached template on first start) with one migration, its stop
 * hook and readiness check registered, then listen. `/readyz` answers 200 once all of that is done.
 */
import { createService } from '@flotilla/runtime';
import { z } from 'zod';
import { openDatabase } from '../../../platform/runtime/src/database/index.js';

const svc = createService({ name: 'catalog', config: { DATABASE_DIR: z.string().min(1) } });
await openDatabase({
  dir: svc.config.DATABASE_DIR,
  migrations: [
    { version: 1, name: 'create_items', up: 'create table items (id text primary key, name text not null)' },
  ],
  log: svc.log,
  lifecycle: svc.lifecycle,
  health: svc.health,
});
svc.router.get('/api/items/:id', (req, res) => {
  res.json({ id: req.params.id });
});
await svc.start();
