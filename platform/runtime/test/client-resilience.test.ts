import { afterEach, describe, expect, it } from '@jest/globals';
import { peerUrlVar } from '@flotilla/model';
import { pino } from 'pino';
import {
  BulkheadRejectedError,
  CircuitOpenError,
  PeerClientError,
  PeerServerError,
  PeerTimeoutError,
  PeerUnavailableError,
  createServiceClients,
  type PeerOptions,
} from '../src/client/index.js';
import { hang, json, reset, startPeer, type Behaviour, type TestPeer } from './support/client-peer.js';

const log = pino({ level: 'silent' });
const peers: TestPeer[] = [];

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

/** Fast settings so tests stay short: small timeouts and backoff, a quickly half-opening breaker. */
const FAST: PeerOptions = {
  timeoutMs: 200,
  retry: { maxRetries: 2, initialDelayMs: 5, maxDelayMs: 20 },
  breaker: { minimumAttempts: 5, halfOpenAfterMs: 200 },
};

async function inventoryWith(behaviour: Behaviour, options: PeerOptions = FAST) {
  const peer = await startPeer(behaviour);
  peers.push(peer);
  const clients = createServiceClients({
    env: { SERVICE_NAME: 'orders', DISCOVERY_METHOD: 'static', [peerUrlVar('inventory')]: peer.url },
    log,
    peers: { inventory: options },
  });
  return { peer, inventory: clients.client('inventory') };
}

const ok: Behaviour = (_req, res) => json(res, 200, { ok: true });

describe('service client resilience', () => {
  it('returns the parsed JSON body of a successful call', async () => {
    const { inventory, peer } = await inventoryWith((req, res) =>
      json(res, 200, { sku: 'a1', path: req.url }),
    );
    const res = await inventory.get<{ sku: string; path: string }>('/stock/a1', { query: { full: true } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sku: 'a1', path: '/stock/a1?full=true' });
    expect(peer.requests).toHaveLength(1);
  });

  it('times out a hanging peer, aborts the request on the peer side, and retries a GET', async () => {
    const { inventory, peer } = await inventoryWith(hang, { ...FAST, timeoutMs: 100 });
    const err = await inventory.get('/stock/a1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerTimeoutError);
    expect((err as PeerTimeoutError).timeoutMs).toBe(100);
    expect((err as PeerTimeoutError).message).toContain('GET inventory /stock/a1');
    expect(peer.requests).toHaveLength(3); // first attempt + 2 retries
    await peer.abortedAtLeast(3); // the peer saw every attempt's connection close
    expect(peer.aborted).toBe(3);
  });

  it('retries a 503 and succeeds when the peer recovers', async () => {
    const { inventory, peer } = await inventoryWith((_req, res, n) =>
      n < 3 ? json(res, 503, { title: 'Service Unavailable' }) : json(res, 200, { ok: true }),
    );
    const res = await inventory.get('/stock/a1');
    expect(res.body).toEqual({ ok: true });
    expect(peer.requests).toHaveLength(3);
  });

  it('gives PeerServerError with the status when 503 persists past the retries', async () => {
    const { inventory, peer } = await inventoryWith((_req, res) => json(res, 503, { title: 'Down' }));
    const err = await inventory.get('/stock/a1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerServerError);
    expect((err as PeerServerError).status).toBe(503);
    expect((err as PeerServerError).message).toContain('503 Down');
    expect(peer.requests).toHaveLength(3);
  });

  it('does not retry a 500 (not a transient status)', async () => {
    const { inventory, peer } = await inventoryWith((_req, res) => json(res, 500, { title: 'Bug' }));
    await expect(inventory.get('/x')).rejects.toBeInstanceOf(PeerServerError);
    expect(peer.requests).toHaveLength(1);
  });

  it('retries a GET whose connection is reset', async () => {
    const { inventory, peer } = await inventoryWith((req, res, n) =>
      n === 1 ? reset(req) : ok(req, res, n),
    );
    const res = await inventory.get('/stock/a1');
    expect(res.body).toEqual({ ok: true });
    expect(peer.requests).toHaveLength(2);
  });

  it('gives PeerUnavailableError when the peer is not listening', async () => {
    const { inventory, peer } = await inventoryWith(ok, { ...FAST, retry: { maxRetries: 0 } });
    await peer.close();
    const err = await inventory.get('/stock/a1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerUnavailableError);
    expect((err as PeerUnavailableError).message).toContain('ECONNREFUSED');
    expect((err as PeerUnavailableError).peer).toBe('inventory');
  });

  it('never retries a POST without an idempotency key', async () => {
    const { inventory, peer } = await inventoryWith((req, res, n) =>
      n === 1 ? reset(req) : ok(req, res, n),
    );
    await expect(inventory.post('/reservations', { sku: 'a1' })).rejects.toBeInstanceOf(PeerUnavailableError);
    expect(peer.requests).toHaveLength(1);

    peer.behave((_req, res) => json(res, 503, {}));
    await expect(inventory.post('/reservations', { sku: 'a1' })).rejects.toBeInstanceOf(PeerServerError);
    expect(peer.requests).toHaveLength(2);
  });

  it('retries a POST with an Idempotency-Key, sending the same key and body each time', async () => {
    const { inventory, peer } = await inventoryWith((req, res, n) =>
      n === 1 ? reset(req) : json(res, 201, { reserved: true }),
    );
    const res = await inventory.post('/reservations', { sku: 'a1' }, { idempotencyKey: 'order-7' });
    expect(res.status).toBe(201);
    expect(peer.requests).toHaveLength(2);
    for (const r of peer.requests) {
      expect(r.headers['idempotency-key']).toBe('order-7');
      expect(JSON.parse(r.body)).toEqual({ sku: 'a1' });
      expect(r.headers['content-type']).toBe('application/json');
    }
  });

  it('waits as long as Retry-After asks before retrying a 429', async () => {
    const { inventory, peer } = await inventoryWith((_req, res, n) =>
      n === 1 ? json(res, 429, { title: 'Slow down' }, { 'retry-after': '1' }) : json(res, 200, { ok: true }),
    );
    const res = await inventory.get('/stock/a1');
    expect(res.body).toEqual({ ok: true });
    expect(peer.requests).toHaveLength(2);
    const [first, second] = peer.requests;
    // The backoff alone would retry within ~20 ms; the peer asked for 1 s.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('does not retry when Retry-After asks for more than maxRetryAfterMs, and says how long', async () => {
    const { inventory, peer } = await inventoryWith(
      (_req, res) => json(res, 429, { title: 'Slow down' }, { 'retry-after': '30' }),
      { ...FAST, retry: { ...FAST.retry, maxRetryAfterMs: 1000 } },
    );
    const err = await inventory.get('/stock/a1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerClientError);
    expect((err as PeerClientError).status).toBe(429);
    expect((err as PeerClientError).retryAfterMs).toBe(30_000);
    expect(peer.requests).toHaveLength(1);
  });

  it('gives PeerClientError with the problem body on 4xx, without retry and without opening the breaker', async () => {
    const problem = { type: 'https://shop.example/problems/unknown-sku', title: 'Unknown SKU', status: 404 };
    const { inventory, peer } = await inventoryWith((_req, res) =>
      json(res, 404, problem, { 'content-type': 'application/problem+json' }),
    );
    for (let i = 0; i < 8; i++) {
      const err = await inventory.get('/stock/zz').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeerClientError);
      expect((err as PeerClientError).status).toBe(404);
      expect((err as PeerClientError).problem).toEqual(problem);
    }
    // 8 calls, 8 requests: no retries, and the breaker (5 attempts, half failing) never opened.
    expect(peer.requests).toHaveLength(8);
    expect(inventory.circuitState).toBe('closed');
  });

  it('opens the breaker after repeated failures, fails fast, then half-opens and closes on recovery', async () => {
    const { inventory, peer } = await inventoryWith((_req, res) => json(res, 503, {}), {
      ...FAST,
      retry: { maxRetries: 0 },
      breaker: { minimumAttempts: 3, halfOpenAfterMs: 150 },
    });
    for (let i = 0; i < 3; i++) await expect(inventory.get('/x')).rejects.toBeInstanceOf(PeerServerError);
    expect(inventory.circuitState).toBe('open');

    const err = await inventory.get('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect((err as CircuitOpenError).message).toContain('GET inventory /x');
    await expect(inventory.get('/x')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(peer.requests).toHaveLength(3); // the open circuit kept the calls away from the peer

    peer.behave(ok);
    await new Promise((r) => setTimeout(r, 200)); // past halfOpenAfterMs
    const res = await inventory.get('/x'); // the test call
    expect(res.status).toBe(200);
    expect(inventory.circuitState).toBe('closed');
    await inventory.get('/x');
    expect(peer.requests).toHaveLength(5);
  });

  it('re-opens the breaker when the half-open test call fails', async () => {
    const { inventory, peer } = await inventoryWith((_req, res) => json(res, 503, {}), {
      ...FAST,
      retry: { maxRetries: 0 },
      breaker: { minimumAttempts: 2, halfOpenAfterMs: 100 },
    });
    for (let i = 0; i < 2; i++) await expect(inventory.get('/x')).rejects.toBeInstanceOf(PeerServerError);
    await new Promise((r) => setTimeout(r, 150));
    await expect(inventory.get('/x')).rejects.toBeInstanceOf(PeerServerError); // test call reaches the peer
    expect(inventory.circuitState).toBe('open');
    await expect(inventory.get('/x')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(peer.requests).toHaveLength(3);
  });

  it('stops retrying when the breaker opens during a call', async () => {
    const { inventory, peer } = await inventoryWith((_req, res) => json(res, 503, {}), {
      ...FAST,
      retry: { maxRetries: 5, initialDelayMs: 1, maxDelayMs: 5 },
      breaker: { minimumAttempts: 2, halfOpenAfterMs: 10_000 },
    });
    await expect(inventory.get('/x')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(peer.requests).toHaveLength(2);
  });

  it('rejects calls beyond the bulkhead limit and queue without sending them', async () => {
    const { inventory, peer } = await inventoryWith(hang, {
      ...FAST,
      timeoutMs: 300,
      retry: { maxRetries: 0 },
      bulkhead: { limit: 2, queue: 1 },
    });
    const inFlight = [inventory.get('/a'), inventory.get('/b'), inventory.get('/c')].map((p) =>
      p.catch((e: unknown) => e),
    );
    const err = await inventory.get('/d').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BulkheadRejectedError);
    expect((err as BulkheadRejectedError).limit).toBe(2);
    expect((err as BulkheadRejectedError).message).toContain('GET inventory /d');
    const settled = await Promise.all(inFlight);
    for (const e of settled) expect(e).toBeInstanceOf(PeerTimeoutError);
    // Two at once, then the queued one; '/d' never reached the peer.
    expect(peer.requests.map((r) => r.url).sort()).toEqual(['/a', '/b', '/c']);
  });

  it('rejects with the caller’s reason when the caller cancels', async () => {
    const { inventory, peer } = await inventoryWith(hang, { ...FAST, timeoutMs: 5000 });
    const ctrl = new AbortController();
    const call = inventory.get('/slow', { signal: ctrl.signal }).catch((e: unknown) => e);
    while (peer.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    ctrl.abort(new Error('user went away'));
    const err = await call;
    expect((err as Error).message).toBe('user went away');
    await peer.abortedAtLeast(1);
    expect(peer.requests).toHaveLength(1);
  });
});
