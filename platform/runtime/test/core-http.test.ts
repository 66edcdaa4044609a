import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { pino } from 'pino';
import {
  createHttpApp,
  createHttpServer,
  createService,
  HttpError,
  validate,
  type Service,
} from '../src/index.js';
import { memoryLog } from './support/memory-log.js';

const env = {
  SERVICE_NAME: 'http-test',
  PORT: '0',
  FLOTILLA_ENVIRONMENT: 'test',
  OTEL_SDK_DISABLED: 'true',
};

let svc: Service;
let url: string;
const log = memoryLog();

beforeAll(async () => {
  svc = createService({
    name: 'http-test',
    env,
    manageProcess: false,
    bodyLimit: '1kb',
    logDestination: log,
  });
  svc.router.get(
    '/items/:id',
    validate({ params: z.object({ id: z.string().regex(/^\d+$/, 'expected digits') }) }),
    (req, res) => {
      res.json({ id: req.params.id });
    },
  );
  svc.router.get(
    '/search',
    validate({ query: z.object({ limit: z.coerce.number().int().max(100), q: z.string().min(2) }) }),
    (req, res) => {
      res.json({ limit: req.query.limit, q: req.query.q });
    },
  );
  svc.router.post(
    '/orders',
    validate({
      body: z.object({
        sku: z.string().min(1),
        items: z.array(z.object({ quantity: z.number().int().positive() })),
      }),
    }),
    (req, res) => {
      res.status(201).json({ sku: req.body.sku, count: req.body.items.length });
    },
  );
  svc.router.get('/boom', () => {
    throw new Error('connection string postgres://user:pw@db leaked');
  });
  svc.router.get('/async-boom', async () => {
    await Promise.resolve();
    throw new TypeError('async failure');
  });
  svc.router.get('/conflict', () => {
    throw new HttpError(409, 'Order 42 is already paid', {
      retryAfter: 30,
      extensions: { orderId: '42', status: 999 },
    });
  });
  ({ url } = await svc.start());
});

afterAll(async () => {
  await svc.stop();
});

async function problemOf(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as Record<string, unknown>;
}

/** Polls until `read` returns a non-empty array (or 2 s pass) and returns it. */
async function eventually<T>(read: () => T[]): Promise<T[]> {
  for (let i = 0; i < 200; i++) {
    const value = read();
    if (value.length > 0) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return read();
}

/** The service still answers normally after a bad request. */
async function expectStillServing(): Promise<void> {
  const res = await fetch(`${url}/items/1`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ id: '1' });
}

describe('HTTP app', () => {
  it('serves routes and echoes a sane x-request-id', async () => {
    const res = await fetch(`${url}/items/12`, { headers: { 'x-request-id': 'req-abc.123' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc.123');
    expect(await res.json()).toEqual({ id: '12' });
  });

  it('replaces an unsafe x-request-id with a generated one', async () => {
    const res = await fetch(`${url}/items/12`, {
      headers: { 'x-request-id': 'bad id with spaces "and quotes"' },
    });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 400 listing every invalid body field', async () => {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 7, items: [{ quantity: 1 }, { quantity: -2 }] }),
    });
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem).toMatchObject({
      type: 'urn:flotilla:problem:validation-failed',
      status: 400,
      instance: '/orders',
    });
    expect(typeof problem.title).toBe('string');
    expect(problem.detail).toContain('body.sku');
    const errors = problem.errors as { location: string; path: string; message: string }[];
    expect(errors.map((e) => `${e.location}:${e.path}`).sort()).toEqual([
      'body:items[1].quantity',
      'body:sku',
    ]);
    expect(errors.every((e) => e.message.length > 0)).toBe(true);
    await expectStillServing();
  });

  it('validates params and query, with parsed values reaching the handler', async () => {
    const bad = await problemOf(await fetch(`${url}/items/abc`));
    expect(bad.errors).toEqual([{ location: 'params', path: 'id', message: 'expected digits' }]);
    const badQuery = await fetch(`${url}/search?limit=many&q=x`);
    expect(badQuery.status).toBe(400);
    const q = await problemOf(badQuery);
    expect((q.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['limit', 'q']);
    const ok = await fetch(`${url}/search?limit=5&q=tea`);
    expect(await ok.json()).toEqual({ limit: 5, q: 'tea' });
  });

  it('answers 400 for malformed JSON and keeps serving', async () => {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sku": ',
    });
    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({ type: 'urn:flotilla:problem:malformed-json', status: 400 });
    await expectStillServing();
  });

  it('answers 413 for a body over the limit and keeps serving', async () => {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'x'.repeat(5000), items: [] }),
    });
    expect(res.status).toBe(413);
    expect(await problemOf(res)).toMatchObject({
      type: 'urn:flotilla:problem:payload-too-large',
      status: 413,
      limit: 1024,
    });
    await expectStillServing();
  });

  it('answers 415 for a non-JSON body on a JSON route and keeps serving', async () => {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'sku=1',
    });
    expect(res.status).toBe(415);
    const problem = await problemOf(res);
    expect(problem).toMatchObject({ type: 'urn:flotilla:problem:unsupported-media-type', status: 415 });
    expect(problem.detail).toContain('application/json');
    await expectStillServing();
  });

  it('accepts +json media types', async () => {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.shop+json' },
      body: JSON.stringify({ sku: 'tea', items: [{ quantity: 2 }] }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ sku: 'tea', count: 1 });
  });

  it('answers 404 problems for unknown routes', async () => {
    const res = await fetch(`${url}/nowhere?x=1`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    const problem = await problemOf(res);
    expect(problem).toMatchObject({
      type: 'urn:flotilla:problem:not-found',
      status: 404,
      instance: '/nowhere',
    });
    expect(problem.detail).toContain('DELETE /nowhere');
  });

  it('answers 500 without internals and logs the error with its request id', async () => {
    for (const path of ['/boom', '/async-boom']) {
      const res = await fetch(`${url}${path}`, { headers: { 'x-request-id': `boom-${path.length}` } });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).not.toContain('postgres://');
      expect(text).not.toContain('failure');
      expect(text).not.toMatch(/\bat .*\.ts:\d+/);
      const problem = JSON.parse(text) as Record<string, unknown>;
      expect(problem).toMatchObject({ status: 500, requestId: `boom-${path.length}` });
      const [logged] = await eventually(() =>
        log.lines.filter((l) => l.request_id === `boom-${path.length}` && l.level === 'error'),
      );
      expect(logged).toBeDefined();
      expect(JSON.stringify(logged?.err)).toContain('stack');
    }
    await expectStillServing();
  });

  it('turns HttpError into its problem with Retry-After and extensions', async () => {
    const res = await fetch(`${url}/conflict`);
    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBe('30');
    const problem = await problemOf(res);
    // An extension named like a standard member cannot override it.
    expect(problem).toMatchObject({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'Order 42 is already paid',
      orderId: '42',
    });
  });

  it('logs one line per request with method, route pattern, status, duration and request id', async () => {
    await (await fetch(`${url}/items/99`, { headers: { 'x-request-id': 'line-check' } })).text();
    // The line is written when the response closes, which the client may see a moment earlier.
    const lines = await eventually(() =>
      log.lines.filter((l) => l.request_id === 'line-check' && l.msg === 'request'),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      method: 'GET',
      route: '/items/:id',
      path: '/items/99',
      status: 200,
      service: 'http-test',
    });
    expect(typeof lines[0]?.duration_ms).toBe('number');
  });

  it('does not log health probes', async () => {
    await fetch(`${url}/livez`, { headers: { 'x-request-id': 'probe' } });
    // Request lines are written when the response closes: wait for a later request's line first, so a
    // probe line, had one been logged, would be there by now.
    await (await fetch(`${url}/items/1`, { headers: { 'x-request-id': 'after-probe' } })).text();
    await eventually(() => log.lines.filter((l) => l.request_id === 'after-probe'));
    expect(log.lines.some((l) => l.request_id === 'probe')).toBe(false);
  });

  it('serves a route added after start(): the 404 problem stays behind every route', async () => {
    expect((await fetch(`${url}/late`)).status).toBe(404);
    svc.router.get('/late', (_req, res) => {
      res.json({ late: true });
    });
    const res = await fetch(`${url}/late`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ late: true });
  });

  it('cuts the connection when a handler fails after the headers went out, and keeps serving', async () => {
    svc.router.get('/half', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
      throw new Error('failed mid-response');
    });
    const res = await fetch(`${url}/half`, { headers: { 'x-request-id': 'half' } });
    expect(res.status).toBe(200);
    // The body never completes: the client sees the connection end, not a truncated "success".
    await expect(res.text()).rejects.toThrow();
    const logged = await eventually(() =>
      log.lines.filter((l) => l.request_id === 'half' && l.level === 'error'),
    );
    expect(logged[0]?.msg).toBe('unhandled error in request handler');
    expect((await fetch(`${url}/items/1`)).status).toBe(200);
  });
});

describe('createHttpServer', () => {
  it("creates requests and responses with the app's prototypes, before Express sees them", async () => {
    const { app, router } = createHttpApp({ log: pino({ level: 'silent' }) });
    router.get('/proto', (req, res) => {
      res.json({
        isRequest: req instanceof IncomingMessage,
        ip: req.ip ?? null,
        // Defined on the app's request prototype before createHttpServer replaced it: still inherited.
        hasLog: typeof req.log.info === 'function',
      });
    });
    const server = createHttpServer(app);
    const born: boolean[] = [];
    // Runs before Express's listener: what Node built, not what Express made of it.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      born.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/proto`);
      // Node's own construction still ran: the request is a full IncomingMessage and Express works on it.
      expect(await res.json()).toEqual({ isRequest: true, ip: '127.0.0.1', hasLog: true });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(born).toEqual([true]);
    } finally {
      await new Promise((closed) => server.close(closed));
    }
  });
});

describe('HttpError', () => {
  it('rejects statuses that are not errors, naming the fix', () => {
    expect(() => new HttpError(200, 'ok')).toThrow(/400-599/);
  });
});

describe('health endpoints', () => {
  let other: Service;
  let early: Server;
  let earlyUrl: string;
  const hanging = new Promise<void>(() => undefined);
  let dbUp = true;

  beforeAll(async () => {
    other = createService({
      env: { ...env, SERVICE_NAME: 'health-test' },
      manageProcess: false,
      readinessCheckTimeoutMs: 50,
      logDestination: memoryLog(),
    });
    other.health.addReadinessCheck('database', () => {
      if (!dbUp) throw new Error('connection refused (127.0.0.1:5432)');
    });
    other.health.addReadinessCheck('consumers', () => undefined);
    // The app alone, served before start(), shows the startup state.
    early = createServer(other.app);
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
    earlyUrl = `http://127.0.0.1:${(early.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    early.closeAllConnections();
    await new Promise((resolve) => early.close(resolve));
  });

  it('reports starting until start() finished, then ready with each check', async () => {
    expect((await fetch(`${earlyUrl}/startupz`)).status).toBe(503);
    expect((await fetch(`${earlyUrl}/livez`)).status).toBe(200);
    const before = await fetch(`${earlyUrl}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ status: 'starting' });

    const { url: otherUrl } = await other.start();
    expect((await fetch(`${otherUrl}/startupz`)).status).toBe(200);
    const ready = await fetch(`${otherUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'ok' }, consumers: { status: 'ok' } },
    });
  });

  it('answers 503 naming the failing check and its reason', async () => {
    dbUp = false;
    const res = await fetch(`${earlyUrl}/readyz`);
    dbUp = true;
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'fail',
      failing: ['database'],
      checks: {
        database: { status: 'fail', error: 'connection refused (127.0.0.1:5432)' },
        consumers: { status: 'ok' },
      },
    });
  });

  it('fails a check that does not answer within its timeout', async () => {
    other.health.addReadinessCheck('slow-broker', () => hanging);
    const res = await fetch(`${earlyUrl}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      failing: ['slow-broker'],
      checks: { 'slow-broker': { error: 'timed out after 50 ms' } },
    });
  });

  it('rejects duplicate check names', () => {
    expect(() => other.health.addReadinessCheck('database', () => undefined)).toThrow(/already registered/);
  });

  it('fails readiness as soon as shutdown begins and runs stop hooks in reverse order', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    other.lifecycle.onStop('database', () => void order.push('database'));
    other.lifecycle.onStop('outbox', () => void order.push('outbox'));
    other.lifecycle.onStop('consumers', async () => {
      order.push('consumers');
      await held;
    });
    const stopping = other.stop();
    const res = await fetch(`${earlyUrl}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'shutting-down' });
    release();
    await stopping;
    expect(order).toEqual(['consumers', 'outbox', 'database']);
  });
});

describe('svc.stop() deadline', () => {
  it('rejects naming the hook that did not finish and the hooks that never ran', async () => {
    const s = createService({
      env: { ...env, SERVICE_NAME: 'deadline-test', SHUTDOWN_TIMEOUT_MS: '100' },
      manageProcess: false,
      logDestination: memoryLog(),
    });
    s.lifecycle.onStop('never-reached', () => undefined);
    s.lifecycle.onStop('stuck-consumer', () => new Promise<void>(() => undefined));
    await s.start();
    await expect(s.stop()).rejects.toThrow(/"stuck-consumer" did not finish.*"never-reached" never ran/);
  });
});
