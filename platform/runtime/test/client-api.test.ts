import { afterEach, describe, expect, it } from '@jest/globals';
import { peerUrlVar } from '@flotilla/model';
import { pino } from 'pino';
import { z } from 'zod';
import {
  CircuitOpenError,
  PeerInvalidResponseError,
  PeerNotDeclaredError,
  PeerServerError,
  createServiceClients,
} from '../src/client/index.js';
import { json, startPeer, type Behaviour, type TestPeer } from './support/client-peer.js';

const log = pino({ level: 'silent' });
const peers: TestPeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function inventoryWith(behaviour: Behaviour) {
  const peer = await startPeer(behaviour);
  peers.push(peer);
  const clients = createServiceClients({
    env: { [peerUrlVar('inventory')]: peer.url },
    log,
    defaults: { timeoutMs: 300, retry: { maxRetries: 0 }, breaker: { minimumAttempts: 2 } },
  });
  return { peer, clients, inventory: clients.client('inventory') };
}

describe('service client API', () => {
  it('hands out one client per peer, so breaker state is shared between callers', async () => {
    const { clients, inventory } = await inventoryWith((_req, res) => json(res, 503, {}));
    expect(clients.client('inventory')).toBe(inventory);
    await expect(inventory.get('/a')).rejects.toBeInstanceOf(PeerServerError);
    await expect(clients.client('inventory').get('/b')).rejects.toBeInstanceOf(PeerServerError);
    const err = await clients
      .client('inventory')
      .get('/c')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect((err as CircuitOpenError).cause).toBeInstanceOf(PeerServerError); // what opened it
  });

  it('sends JSON bodies and custom headers, and returns text for non-JSON answers', async () => {
    const { inventory, peer } = await inventoryWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('plain answer');
    });
    const res = await inventory.put('/stock/a1', { qty: 3 }, { headers: { 'X-Tenant': 'acme' } });
    expect(res.body).toBe('plain answer');
    expect(peer.requests[0]).toMatchObject({ method: 'PUT', url: '/stock/a1', body: '{"qty":3}' });
    expect(peer.requests[0]!.headers['x-tenant']).toBe('acme');
  });

  it('checks the body with a schema and reports a mismatch as PeerInvalidResponseError', async () => {
    const { inventory } = await inventoryWith((_req, res) => json(res, 200, { sku: 'a1', qty: 'many' }));
    const Stock = z.object({ sku: z.string(), qty: z.number() });
    const err = await inventory.get('/stock/a1', { schema: Stock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerInvalidResponseError);
    expect((err as Error).message).toMatch(
      /GET inventory \/stock\/a1: peer answered 200 with an invalid body/,
    );
  });

  it('reports a 2xx body that claims JSON but is not as PeerInvalidResponseError', async () => {
    const { inventory } = await inventoryWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{not json');
    });
    await expect(inventory.get('/x')).rejects.toBeInstanceOf(PeerInvalidResponseError);
  });

  it('rejects a path without a leading slash, naming the fix', async () => {
    const { inventory } = await inventoryWith((_req, res) => json(res, 200, {}));
    await expect(inventory.get('stock/a1')).rejects.toThrow(
      "Path 'stock/a1' of a call to 'inventory' must start with '/'",
    );
  });

  it('rejects settings for a peer the service did not declare, and nonsense settings', () => {
    expect(() =>
      createServiceClients({
        env: { [peerUrlVar('inventory')]: 'http://127.0.0.1:1' },
        log,
        peers: { payments: {} },
      }),
    ).toThrow(PeerNotDeclaredError);
    const clients = createServiceClients({
      env: { [peerUrlVar('inventory')]: 'http://127.0.0.1:1' },
      log,
      peers: { inventory: { bulkhead: { limit: 0 } } },
    });
    expect(() => clients.client('inventory')).toThrow(
      "Invalid client option bulkhead.limit = 0 for peer 'inventory': it must be a number >= 1",
    );
    for (const failureRate of [0, 1.5, Number.NaN]) {
      const rate = createServiceClients({
        env: { [peerUrlVar('inventory')]: 'http://127.0.0.1:1' },
        log,
        peers: { inventory: { breaker: { failureRate } } },
      });
      expect(() => rate.client('inventory')).toThrow(
        `Invalid client option breaker.failureRate = ${failureRate} for peer 'inventory': it must be more than 0 and at most 1`,
      );
    }
  });
});
