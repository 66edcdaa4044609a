/**
 * A kit service serving GET /api/items/:id and POST /api/items (body validated with zod through the kit's
 * `validate`, as services do), started the way a service's main.ts is: createService with the environment
 * from envFor (the parent passes it), telemetry preloaded by `--import @flotilla/runtime/telemetry`, JSON
 * logs to stdout (a file here). Reports its port over IPC once it listens.
 */
import { createService, validate } from '@flotilla/runtime';
import { tellParent } from '../lib/child.js';
import { acceptProfilingRequests } from '../lib/profiler.js';
import { createdItem, ITEM_ROUTE, itemBody, ITEMS_ROUTE, NewItem } from './item.js';

const svc = createService({ name: 'catalog' });
svc.router.get(ITEM_ROUTE, (req, res) => {
  res.json(itemBody(String(req.params.id)));
});
svc.router.post(ITEMS_ROUTE, validate({ body: NewItem }), (req, res) => {
  res.status(201).json(createdItem(req.body));
});
acceptProfilingRequests();
const listening = await svc.start();
tellParent({ type: 'listening', port: listening.port });
