/**
 * A kit service serving GET /api/items/:id, started the way a service's main.ts is: createService with the
 * environment from envFor (the parent passes it), telemetry preloaded by `--import @flotilla/runtime/telemetry`,
 * JSON logs to stdout (a file here). Reports its port over IPC once it listens.
 */
import { createService } from '@flotilla/runtime';
import { tellParent } from '../lib/child.js';
import { acceptProfilingRequests } from '../lib/profiler.js';
import { ITEM_ROUTE, itemBody } from './item.js';

const svc = createService({ name: 'catalog' });
svc.router.get(ITEM_ROUTE, (req, res) => {
  res.json(itemBody(String(req.params.id)));
});
acceptProfilingRequests();
const listening = await svc.start();
tellParent({ type: 'listening', port: listening.port });
