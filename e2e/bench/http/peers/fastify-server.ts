/**
 * The Fastify 5 peer: Fastify's own pino logger (JSON lines to stdout, a file here) with trace ids, the same
 * two routes, the POST body validated by Fastify from the JSON schema equivalent to the kit's zod schema.
 * Telemetry comes from ./fastify-otel.preload.ts. One log line per request: Fastify's own "request completed"
 * (its "incoming request" line is off, through its LogController, so every contender writes one line per
 * request).
 */
import Fastify, { LogController } from 'fastify';
import type { AddressInfo } from 'node:net';
import { tellParent } from '../../lib/child.js';
import { acceptProfilingRequests } from '../../lib/profiler.js';
import { createdItem, ITEM_ROUTE, itemBody, ITEMS_ROUTE, newItemJsonSchema, type NewItem } from '../item.js';
import { traceFields } from './trace-fields.js';

acceptProfilingRequests();
/** Fastify's own request lines, without the "incoming request" one. */
class CompletedRequestsOnly extends LogController {
  override incomingRequest(): void {}
}

const app = Fastify({
  logger: { level: 'info', mixin: traceFields },
  logController: new CompletedRequestsOnly(),
  bodyLimit: 100 * 1024,
});
app.get<{ Params: { id: string } }>(ITEM_ROUTE, (request) => itemBody(request.params.id));
app.post<{ Body: NewItem }>(ITEMS_ROUTE, { schema: { body: newItemJsonSchema } }, (request, reply) => {
  reply.code(201);
  return createdItem(request.body);
});
await app.listen({ port: 0, host: '127.0.0.1' });
tellParent({ type: 'listening', port: (app.server.address() as AddressInfo).port });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
