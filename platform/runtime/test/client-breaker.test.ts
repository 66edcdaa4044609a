/**
 * The circuit breaker of a peer opens on a sustained outage (timeouts, refused connections, 502/503/504 at a
 * high rate over enough attempts), and never on a handful of requests a client can cause: not on a peer's
 * deterministic 500s, not on 4xx or 429, not on a few failures (issue 11, defect 2: five orders with a NUL
 * in a SKU made inventory answer 500 five times, and orders' breaker shut order placement down).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { peerUrlVar } from '@flotilla/model';
import { CircuitState } from 'cockatiel';
import { pino } from 'pino';
import {
  CircuitOpenError,
  PeerClientError,
  PeerServerError,
  PeerTimeoutError,
  createServiceClients,
  type PeerOptions,
} from '../src/client/index.js';
import { FailureRateBreaker } from '../src/client/failure-rate-breaker.js';
import { hang, json, startPeer, type Behaviour, type TestPeer } from './support/client-peer.js';
import { memoryLog } from './support/memory-log.js';

const peers: TestPeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function inventoryWith(behaviour: Behaviour, options: PeerOptions = {}) {
  const peer = await startPeer(behaviour);
  peers.push(peer);
  const lines = memoryLog();
  const clients = createServiceClients({
    env: { [peerUrlVar('inventory')]: peer.url },
    log: pino({ level: 'info' }, lines),
    // The platform's breaker defaults; quick retries so the tests stay short.
    peers: { inventory: { retry: { initialDelayMs: 1, maxDelayMs: 5 }, ...options } },
  });
  return { peer, inventory: clients.client('inventory'), lines: lines.lines };
}

/** Settles `count` calls made by `call`, `parallel` at a time; their errors (undefined for a success). */
async function calls(count: number, parallel: number, call: () => Promise<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (started < count) {
        started++;
        out.push(
          await call().then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
      }
    }),
  );
  return out;
}

/** The kinds of the errors (class name, and status for an answer), e.g. `['PeerServerError 500']`. */
function kinds(errors: readonly unknown[]): string[] {
  const name = (e: unknown) =>
    e === undefined
      ? 'success'
      : e instanceof PeerServerError || e instanceof PeerClientError
        ? `${e.name} ${e.status}`
        : e instanceof Error
          ? e.name
          : String(e);
  return [...new Set(errors.map(name))].sort();
}

describe('circuit breaker: what does not open it', () => {
  it('fifty deterministic 500s leave it closed: every call reaches the peer', async () => {
    const { inventory, peer } = await inventoryWith((_req, res) => json(res, 500, { title: 'Bug' }));
    const errors = await calls(50, 1, () => inventory.get('/stock/SKU%00X'));
    expect(kinds(errors)).toEqual(['PeerServerError 500']);
    expect(inventory.circuitState).toBe('closed');
    expect(peer.requests).toHaveLength(50); // a 500 is not retried, and no call failed fast
  });

  it('five POSTs that a peer answers 500 leave the next call working', async () => {
    // The shape of the defect: orders posting reservations that inventory cannot store.
    const { inventory, peer } = await inventoryWith((req, res) =>
      req.url === '/bad' ? json(res, 500, {}) : json(res, 201, { ok: true }),
    );
    for (let i = 0; i < 5; i++)
      await expect(inventory.post('/bad', { sku: 'x' }, { idempotencyKey: `k${i}` })).rejects.toBeInstanceOf(
        PeerServerError,
      );
    expect((await inventory.post('/good', { sku: 'y' })).status).toBe(201);
    expect(peer.requests).toHaveLength(6);
  });

  it('4xx and 429 answers leave it closed', async () => {
    const { inventory } = await inventoryWith((req, res) =>
      req.url === '/limited' ? json(res, 429, {}, { 'retry-after': '60' }) : json(res, 404, {}),
    );
    const errors = await calls(30, 3, () => inventory.get('/limited'));
    errors.push(...(await calls(30, 3, () => inventory.get('/missing'))));
    expect(kinds(errors)).toEqual(['PeerClientError 404', 'PeerClientError 429']);
    expect(inventory.circuitState).toBe('closed');
  });

  it('a handful of timeouts (fewer attempts than minimumAttempts) leave it closed', async () => {
    const { inventory, peer } = await inventoryWith(hang, { timeoutMs: 200 });
    // Five calls a client might make slow on purpose: 5 x 3 attempts, all timing out, under the 20 needed.
    const errors = await calls(5, 5, () => inventory.get('/slow'));
    // Every attempt timed out, none failed fast.
    expect(kinds(errors)).toEqual(['PeerTimeoutError']);
    expect(inventory.circuitState).toBe('closed');
    expect(peer.requests.length).toBeGreaterThan(0);
  });

  it('answers count as successes: timeouts among many answered calls stay under the rate', async () => {
    const { inventory } = await inventoryWith(
      (req, res) => (req.url === '/slow' ? hang() : json(res, 500, {})),
      { retry: { maxRetries: 0 } },
    );
    await calls(30, 3, () => inventory.get('/answered', { timeoutMs: 10_000 }));
    const slow = await calls(20, 4, () => inventory.get('/slow', { timeoutMs: 100 }));
    expect(kinds(slow)).toEqual(['PeerTimeoutError']);
    // 20 failures of 50 attempts: 40%, under the 50% that opens it.
    expect(inventory.circuitState).toBe('closed');
  });
});

describe('circuit breaker: a sustained outage opens it', () => {
  it('a peer that hangs: once enough attempts timed out, calls fail fast without reaching it', async () => {
    const { inventory, peer, lines } = await inventoryWith(hang, { timeoutMs: 200 });
    const errors = await calls(12, 4, () => inventory.get('/stock/a1'));
    expect(inventory.circuitState).toBe('open');
    // Timeouts until minimumAttempts (20) attempts had failed (see the log line below), then calls failing
    // fast, also calls whose retry came after the opening.
    expect(kinds(errors)).toEqual(['CircuitOpenError', 'PeerTimeoutError']);
    const seen = peer.requests.length;
    const fast = await inventory.get('/stock/a1').catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect((fast as CircuitOpenError).cause).toBeInstanceOf(PeerTimeoutError);
    expect(peer.requests).toHaveLength(seen);
    const opened = lines.filter((l) => String(l.msg).startsWith("circuit to peer 'inventory' opened"));
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ peer: 'inventory', windowMs: 30_000 });
    expect(opened[0]?.attempts).toBeGreaterThanOrEqual(20);
    expect(opened[0]?.failures).toBe(opened[0]?.attempts);
  });

  it('a peer that is gone (connection refused) or answers 503: it opens, then recovers through half-open', async () => {
    const { inventory, peer } = await inventoryWith((_req, res) => json(res, 503, {}), {
      breaker: { halfOpenAfterMs: 100 },
    });
    const errors = await calls(10, 2, () => inventory.get('/x'));
    expect(kinds(errors)).toEqual(['CircuitOpenError', 'PeerServerError 503']);
    expect(inventory.circuitState).toBe('open');

    const gone = await inventoryWith(() => undefined, { breaker: { halfOpenAfterMs: 100 } });
    await gone.peer.close();
    const refused = await calls(10, 2, () => gone.inventory.get('/x'));
    expect(kinds(refused)).toEqual(['CircuitOpenError', 'PeerUnavailableError']);

    peer.behave((_req, res) => json(res, 200, { ok: true }));
    await new Promise((r) => setTimeout(r, 150)); // past halfOpenAfterMs
    expect((await inventory.get('/x')).status).toBe(200); // the test call
    expect(inventory.circuitState).toBe('closed');
  });
});

describe('FailureRateBreaker', () => {
  const options = { failureRate: 0.5, windowMs: 10_000, minimumAttempts: 4 };
  const closed = CircuitState.Closed;

  it('opens at the rate once the window holds minimumAttempts, not before', () => {
    let now = 1_000_000;
    const breaker = new FailureRateBreaker(options, () => now);
    expect([1, 2, 3].map(() => breaker.failure(closed))).toEqual([false, false, false]);
    expect(breaker.failure(closed)).toBe(true); // 4 of 4

    const diluted = new FailureRateBreaker(options, () => now);
    for (let i = 0; i < 4; i++) diluted.success(closed);
    expect([1, 2, 3].map(() => diluted.failure(closed))).toEqual([false, false, false]); // 3 of 7
    expect(diluted.failure(closed)).toBe(true); // 4 of 8: 50%
    now += 1;
  });

  it('forgets attempts older than the window, however long it was idle', () => {
    let now = 5_000_000;
    const breaker = new FailureRateBreaker(options, () => now);
    for (let i = 0; i < 3; i++) expect(breaker.failure(closed)).toBe(false);
    now += 3_600_000; // an hour later: those three must not count
    expect(breaker.failure(closed)).toBe(false);
    expect(breaker.window()).toEqual({ attempts: 1, failures: 1, windowMs: 10_000 });
    now += 9_500; // within the window of that one
    expect([1, 2].map(() => breaker.failure(closed))).toEqual([false, false]);
    expect(breaker.failure(closed)).toBe(true);
  });

  it('slides: a failure ages out after windowMs', () => {
    let now = 0;
    const breaker = new FailureRateBreaker(options, () => now);
    breaker.failure(closed);
    now = 5_000;
    breaker.failure(closed);
    now = 10_500;
    expect(breaker.window()).toMatchObject({ attempts: 1, failures: 1 });
  });

  it('re-opens on a failed half-open test call; a successful one clears the outage', () => {
    const now = 0;
    const breaker = new FailureRateBreaker(options, () => now);
    for (let i = 0; i < 4; i++) breaker.failure(closed);
    expect(breaker.failure(CircuitState.HalfOpen)).toBe(true);
    breaker.success(CircuitState.HalfOpen);
    expect(breaker.window()).toMatchObject({ attempts: 1, failures: 0 });
  });
});
