import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matchesPrefix, startGateway, type Gateway } from '../src/index.js';
import { eventually } from '../src/testing.js';

describe('gateway', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function upstream(handler: Parameters<typeof createServer>[1]): Promise<number> {
    const server: Server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
    );
    return (server.address() as AddressInfo).port;
  }

  async function gateway(routes: Parameters<typeof startGateway>[0]['routes']): Promise<Gateway> {
    const g = await startGateway({ port: 0, routes, readinessIntervalMs: 100 });
    cleanups.push(() => g.stop());
    return g;
  }

  it('matches prefixes per path segment, like a Kubernetes Prefix path', () => {
    expect(matchesPrefix('/api/orders', '/api/orders')).toBe(true);
    expect(matchesPrefix('/api/orders/', '/api/orders')).toBe(true);
    expect(matchesPrefix('/api/orders/1/items', '/api/orders')).toBe(true);
    expect(matchesPrefix('/api/ordersx', '/api/orders')).toBe(false);
    expect(matchesPrefix('/api', '/api/orders')).toBe(false);
    expect(matchesPrefix('/anything', '/')).toBe(true);
  });

  it('answers 503 problem+json with Retry-After when the service is not running', async () => {
    const free = await upstream(() => undefined);
    await cleanups.pop()!(); // close it again: nothing listens on that port now
    const g = await gateway([{ prefix: '/api/orders', service: 'orders', port: free }]);
    const res = await fetch(`${g.url}/api/orders/1`, { headers: { 'x-request-id': 'abc' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('x-request-id')).toBe('abc');
    expect(await res.json()).toMatchObject({
      status: 503,
      title: 'Service Unavailable',
      instance: '/api/orders/1',
    });
  });

  it('answers 502 problem+json when the service drops the connection without answering', async () => {
    const port = await upstream((req, res) =>
      req.url === '/readyz' ? res.end('{"status":"ok"}') : req.socket.destroy(),
    );
    const g = await gateway([{ prefix: '/api/orders', service: 'orders', port }]);
    const res = await fetch(`${g.url}/api/orders`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ status: 502, title: 'Bad Gateway' });
  });

  it('streams a large request body to the service and its response back', async () => {
    const port = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
    });
    const g = await gateway([{ prefix: '/upload', service: 'files', port }]);
    const body = Buffer.alloc(5 * 1024 * 1024, 7);
    const res = await fetch(`${g.url}/upload`, { method: 'PUT', body });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it('uses the longest matching prefix and gives every request an id', async () => {
    const a = await upstream((req, res) =>
      res.end(JSON.stringify({ who: 'a', id: req.headers['x-request-id'] })),
    );
    const b = await upstream((req, res) =>
      res.end(JSON.stringify({ who: 'b', id: req.headers['x-request-id'] })),
    );
    const g = await gateway([
      { prefix: '/', service: 'a', port: a },
      { prefix: '/api/b', service: 'b', port: b },
    ]);
    const viaB = (await (await fetch(`${g.url}/api/b/x`)).json()) as { who: string; id: string };
    expect(viaB.who).toBe('b');
    expect(viaB.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await (await fetch(`${g.url}/api/c`)).json()) as { who: string }).who).toBe('a');
  });

  /** A process of service `who` whose readiness answers `ready()` (200 or 503) and that names itself. */
  const process_ = (who: string, ready: () => boolean = () => true) =>
    upstream((req, res) => {
      if (req.url === '/readyz') {
        res.writeHead(ready() ? 200 : 503).end(JSON.stringify({ status: ready() ? 'ok' : 'fail' }));
        return;
      }
      res.end(who);
    });
  const whoAnswers = async (g: Gateway, n: number): Promise<string[]> => {
    const got: string[] = [];
    for (let i = 0; i < n; i++) got.push(await (await fetch(`${g.url}/api/orders`)).text());
    return got;
  };

  it("spreads a service's requests across its ready processes, and skips one whose readiness fails", async () => {
    let bReady = true;
    const a = await process_('a');
    const b = await process_('b', () => bReady);
    const g = await gateway([{ prefix: '/api/orders', service: 'orders', port: a }]);
    g.addUpstream('orders', b);
    await g.probe('orders');
    expect(new Set(await whoAnswers(g, 6))).toEqual(new Set(['a', 'b']));

    bReady = false;
    // Out after two failed probes in a row, as the charts' readiness probe counts them.
    await eventually('b out of rotation', async () =>
      g.upstreams('orders')[1]?.readiness === 'unready' ? true : undefined,
    );
    expect(g.upstreams('orders')).toEqual([
      { port: a, readiness: 'ready' },
      { port: b, readiness: 'unready', lastError: 'readiness answered 503' },
    ]);
    expect(new Set(await whoAnswers(g, 6))).toEqual(new Set(['a']));
  });

  it('takes a removed process out at once, while the request it is serving finishes', async () => {
    let finish: () => void = () => undefined;
    const slow = await upstream((req, res) => {
      if (req.url === '/readyz') return void res.end('{"status":"ok"}');
      finish = () => res.end('slow');
    });
    const other = await process_('other');
    const g = await gateway([{ prefix: '/api/orders', service: 'orders', port: slow }]);
    await g.probe();
    const inFlight = fetch(`${g.url}/api/orders`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 100));
    g.addUpstream('orders', other);
    await g.probe('orders');
    g.removeUpstream('orders', slow);
    expect(await whoAnswers(g, 3)).toEqual(['other', 'other', 'other']);
    finish();
    expect(await inFlight).toBe('slow');
  });

  it('answers 503 naming the readiness of each process when none is ready', async () => {
    const a = await process_('a', () => false);
    const g = await gateway([{ prefix: '/api/orders', service: 'orders', port: a }]);
    await eventually('a out of rotation', async () =>
      g.upstreams('orders')[0]?.readiness === 'unready' ? true : undefined,
    );
    const res = await fetch(`${g.url}/api/orders`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { detail: string }).detail).toContain(
      `No process of service orders is ready (port ${a}: readiness answered 503)`,
    );
  });
});
