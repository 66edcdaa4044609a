/**
 * Bare Express 5 serving GET /api/items/:id: the baseline of the HTTP benchmark. ETag and X-Powered-By are
 * off, as in the kit, so both sides send the same response and the difference is the kit's own work.
 * Listens on PORT (default: an ephemeral port) and reports the port over IPC.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { tellParent } from '../lib/child.js';
import { acceptProfilingRequests } from '../lib/profiler.js';
import { ITEM_ROUTE, itemBody } from './item.js';

acceptProfilingRequests();
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get(ITEM_ROUTE, (req, res) => {
  res.json(itemBody(String(req.params.id)));
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  // Same keep-alive settings as the kit's server, so neither side closes connections under load.
  server.keepAliveTimeout = 65_000;
  tellParent({ type: 'listening', port: (server.address() as AddressInfo).port });
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
