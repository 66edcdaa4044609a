/**
 * The Express 5 peers' app: pino-http (one JSON line per request, "request completed", to stdout, a file
 * here), the same two routes, the POST body validated with zod. Telemetry is preloaded: the Node SDK with
 * the HTTP and Express instrumentations (./sdk-node.preload.ts), or every auto-instrumentation
 * (`@opentelemetry/auto-instrumentations-node/register`). With TRACE_IDS=mixin a pino mixin adds the trace
 * ids; the auto-instrumentations bring the pino instrumentation, which adds them itself.
 */
import express, { type RequestHandler } from 'express';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { pino, type Logger } from 'pino';
import { tellParent } from '../../lib/child.js';
import { acceptProfilingRequests } from '../../lib/profiler.js';
import { itemRoutes } from '../express-routes.js';
import { traceFields } from './trace-fields.js';

/**
 * pino-http, loaded without its type declarations: they augment node:http's IncomingMessage (`id`, `log`)
 * for every file of the program, and the benchmarks are type-checked together with the runtime's sources,
 * whose `req.id` is the kit's string request id.
 */
const pinoHttp = createRequire(import.meta.url)('pino-http') as (options: {
  logger: Logger;
}) => RequestHandler;

acceptProfilingRequests();
const logger = pino(process.env.TRACE_IDS === 'mixin' ? { mixin: traceFields } : {});
const app = express();
app.use(pinoHttp({ logger }));
itemRoutes(app);
const server = createServer(app);
server.listen(0, '127.0.0.1', () => {
  server.keepAliveTimeout = 65_000;
  tellParent({ type: 'listening', port: (server.address() as AddressInfo).port });
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
