/**
 * Bare Express 5 serving GET /api/items/:id and POST /api/items (express.json, the body validated with zod,
 * 400 problem+json when invalid): the baseline of the HTTP benchmark. ETag and X-Powered-By are off, as in
 * the kit, so both sides send the same response and the difference is the kit's own work.
 * With BARE_ON_KIT_SERVER=1 the app runs on the kit's `createHttpServer` (requests born with Express's
 * prototypes) instead of `app.listen`: Express with the kit's server fix and none of its observability,
 * the baseline that isolates what tracing, logging and metrics cost. The runtime is imported only then:
 * loading it takes seconds from sources, which the ready suite's bare start-up must not pay.
 * Listens on PORT (default: an ephemeral port) and reports the port over IPC.
 */
import { createServer } from 'node:http';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { tellParent } from '../lib/child.js';
import { acceptProfilingRequests } from '../lib/profiler.js';
import { itemRoutes } from './express-routes.js';

acceptProfilingRequests();
const app = express();
itemRoutes(app);

// createServer(app) is what app.listen does.
const server =
  process.env.BARE_ON_KIT_SERVER === '1'
    ? (await import('@flotilla/runtime')).createHttpServer(app)
    : createServer(app);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  // Same keep-alive settings as the kit's server, so neither side closes connections under load.
  server.keepAliveTimeout = 65_000;
  tellParent({ type: 'listening', port: (server.address() as AddressInfo).port });
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
