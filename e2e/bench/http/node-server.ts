/**
 * The floor of the HTTP benchmark: node:http alone, no framework, serving the same two routes by hand
 * (`GET /api/items/:id`; `POST /api/items` with the body read up to 100 KiB, parsed and validated with zod,
 * 400 problem+json when invalid). No logs, metrics or traces: what any framework's work is added to.
 * Listens on an ephemeral port and reports it over IPC.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tellParent } from '../lib/child.js';
import { acceptProfilingRequests } from '../lib/profiler.js';
import { createdItem, invalidBodyProblem, itemBody, ITEMS_ROUTE, NewItem } from './item.js';

const BODY_LIMIT = 100 * 1024;
const ITEM_PREFIX = `${ITEMS_ROUTE}/`;

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) resolve(undefined);
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function postItem(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    send(res, 415, { title: 'Unsupported Media Type', status: 415 }, 'application/problem+json');
    return;
  }
  const text = await readBody(req);
  if (text === undefined) {
    send(res, 413, { title: 'Content Too Large', status: 413 }, 'application/problem+json');
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    send(res, 400, { title: 'Bad Request', status: 400, detail: 'not JSON' }, 'application/problem+json');
    return;
  }
  const parsed = NewItem.safeParse(json);
  if (parsed.success) send(res, 201, createdItem(parsed.data));
  else send(res, 400, invalidBodyProblem(parsed.error), 'application/problem+json');
}

acceptProfilingRequests();
const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?', 1)[0] as string;
  if (req.method === 'GET' && path.startsWith(ITEM_PREFIX) && path.length > ITEM_PREFIX.length) {
    send(res, 200, itemBody(decodeURIComponent(path.slice(ITEM_PREFIX.length))));
  } else if (req.method === 'POST' && path === ITEMS_ROUTE) {
    postItem(req, res).catch(() => send(res, 500, { title: 'Internal Server Error', status: 500 }));
  } else {
    send(res, 404, { title: 'Not Found', status: 404 }, 'application/problem+json');
  }
});
server.listen(0, '127.0.0.1', () => {
  // Same keep-alive settings as the kit's server, so no side closes connections under load.
  server.keepAliveTimeout = 65_000;
  tellParent({ type: 'listening', port: (server.address() as AddressInfo).port });
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
