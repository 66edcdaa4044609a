import { afterEach, describe, expect, it } from '@jest/globals';
import { ENV, clusterServiceUrl, peerUrlVar } from '@flotilla/model';
import { pino } from 'pino';
import {
  DiscoveryConfigError,
  PeerNoInstancesError,
  PeerNotDeclaredError,
  createServiceClients,
  type ServiceClients,
} from '../src/client/index.js';
import { startFakeCloudMap, type FakeCloudMap } from './support/client-cloudmap.js';
import { json, startPeer, type TestPeer } from './support/client-peer.js';

const log = pino({ level: 'silent' });
const NAMESPACE = 'shop.internal';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A peer instance that answers with its own name, so a test sees which instance served a call. */
async function instance(name: string): Promise<TestPeer> {
  const p = await startPeer((_req, res) => json(res, 200, { instance: name }));
  cleanups.push(() => p.close());
  return p;
}

async function fakeCloudMap(): Promise<FakeCloudMap> {
  const f = await startFakeCloudMap();
  cleanups.push(() => f.stop().catch(() => undefined));
  return f;
}

function cloudMapClients(fake: FakeCloudMap, fallbackUrl: string, ttlMs = 10_000): ServiceClients {
  const clients = createServiceClients({
    env: {
      [ENV.serviceName]: 'orders',
      [ENV.discoveryMethod]: 'cloudmap',
      [ENV.cloudMapNamespace]: NAMESPACE,
      [peerUrlVar('inventory')]: fallbackUrl,
    },
    log,
    cloudMap: { client: fake.client(), ttlMs },
    defaults: { timeoutMs: 300, retry: { maxRetries: 0 } },
  });
  cleanups.push(() => clients.close());
  return clients;
}

describe('discovery from the environment', () => {
  it('calls the static URL of PEER_<NAME>_URL', async () => {
    const peer = await instance('local');
    const clients = createServiceClients({
      env: { [ENV.discoveryMethod]: 'static', [peerUrlVar('inventory')]: `${peer.url}/` },
      log,
    });
    expect(clients.discovery).toBe('static');
    expect((await clients.client('inventory').get('/stock')).body).toEqual({ instance: 'local' });
    expect(peer.requests[0]!.url).toBe('/stock');
  });

  it('uses PEER_<NAME>_URL (the cluster DNS name) as is with DISCOVERY_METHOD=dns', async () => {
    // envFor writes clusterServiceUrl(); there is no cluster DNS here, so `localhost` stands in for the name.
    expect(clusterServiceUrl('inventory', 'shop', 8080)).toBe('http://inventory.shop.svc.cluster.local:8080');
    const peer = await instance('dns');
    const clients = createServiceClients({
      env: { [ENV.discoveryMethod]: 'dns', [peerUrlVar('inventory')]: `http://localhost:${peer.port}` },
      log,
    });
    expect(clients.discovery).toBe('dns');
    const res = await clients.client('inventory').get('/stock');
    expect(res.body).toEqual({ instance: 'dns' });
    expect(peer.requests[0]!.headers.host).toBe(`localhost:${peer.port}`);
  });

  it('names the peer and the fix when the service did not declare it', () => {
    const clients = createServiceClients({
      env: { [ENV.serviceName]: 'orders', [ENV.discoveryMethod]: 'static' },
      log,
    });
    expect(() => clients.client('payments')).toThrow(PeerNotDeclaredError);
    expect(() => clients.client('payments')).toThrow(
      /Peer 'payments' is not declared: PEER_PAYMENTS_URL is not set .*service 'orders'.*add 'payments' to calls in service\.ts/i,
    );
  });

  it('rejects an unknown DISCOVERY_METHOD and a cloudmap method without namespace, naming the variable', () => {
    expect(() => createServiceClients({ env: { [ENV.discoveryMethod]: 'consul' }, log })).toThrow(
      /DISCOVERY_METHOD='consul' is not a discovery method: use one of static, dns, cloudmap/,
    );
    expect(() => createServiceClients({ env: { [ENV.discoveryMethod]: 'cloudmap' }, log })).toThrow(
      DiscoveryConfigError,
    );
    expect(() => createServiceClients({ env: { [ENV.discoveryMethod]: 'cloudmap' }, log })).toThrow(
      /CLOUDMAP_NAMESPACE/,
    );
  });

  it('rejects a PEER_<NAME>_URL that is not an http URL', () => {
    const clients = createServiceClients({ env: { [peerUrlVar('inventory')]: 'inventory:8080' }, log });
    expect(() => clients.client('inventory')).toThrow(
      /PEER_INVENTORY_URL='inventory:8080' .* is not a URL|must be an http/,
    );
  });
});

describe('Cloud Map discovery (fake DiscoverInstances API, real SDK)', () => {
  it('asks for the peer in the namespace and spreads calls over its instances', async () => {
    const [a, b] = await Promise.all([instance('a'), instance('b')]);
    const fake = await fakeCloudMap();
    fake.register(NAMESPACE, 'inventory', [
      { id: 'a', ipv4: '127.0.0.1', port: a.port },
      { id: 'b', ipv4: '127.0.0.1', port: b.port },
    ]);
    const inventory = cloudMapClients(fake, 'http://inventory.shop.svc.cluster.local:8080').client(
      'inventory',
    );
    const served: string[] = [];
    for (let i = 0; i < 6; i++)
      served.push((await inventory.get<{ instance: string }>('/stock')).body.instance);
    expect(served.filter((s) => s === 'a')).toHaveLength(3);
    expect(served.filter((s) => s === 'b')).toHaveLength(3);
    expect(fake.calls[0]).toEqual({
      NamespaceName: NAMESPACE,
      ServiceName: 'inventory',
      HealthStatus: 'HEALTHY_OR_ELSE_ALL',
    });
  });

  it('retries a failed attempt on the next instance', async () => {
    const [down, up] = await Promise.all([instance('down'), instance('up')]);
    await down.close(); // registered, but refusing connections
    const fake = await fakeCloudMap();
    fake.register(NAMESPACE, 'inventory', [
      { id: 'down', ipv4: '127.0.0.1', port: down.port },
      { id: 'up', ipv4: '127.0.0.1', port: up.port },
    ]);
    const clients = createServiceClients({
      env: {
        [ENV.discoveryMethod]: 'cloudmap',
        [ENV.cloudMapNamespace]: NAMESPACE,
        [peerUrlVar('inventory')]: 'http://inventory.shop.svc.cluster.local:8080',
      },
      log,
      cloudMap: { client: fake.client() },
      defaults: { timeoutMs: 300, retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 5 } },
    });
    cleanups.push(() => clients.close());
    const inventory = clients.client('inventory');
    // Whichever instance the rotation starts with, every call ends on the live one.
    for (let i = 0; i < 4; i++) expect((await inventory.get('/stock')).body).toEqual({ instance: 'up' });
    expect(up.requests).toHaveLength(4);
  });

  it('skips unhealthy instances', async () => {
    const [a, b] = await Promise.all([instance('a'), instance('b')]);
    const fake = await fakeCloudMap();
    fake.register(NAMESPACE, 'inventory', [
      { id: 'a', ipv4: '127.0.0.1', port: a.port, health: 'UNHEALTHY' },
      { id: 'b', ipv4: '127.0.0.1', port: b.port },
    ]);
    const inventory = cloudMapClients(fake, 'http://inventory.shop.svc.cluster.local:8080').client(
      'inventory',
    );
    for (let i = 0; i < 4; i++) expect((await inventory.get('/stock')).body).toEqual({ instance: 'b' });
    expect(a.requests).toHaveLength(0);
  });

  it('caches the answer for the TTL, then asks again and sees new instances', async () => {
    const [a, b] = await Promise.all([instance('a'), instance('b')]);
    const fake = await fakeCloudMap();
    fake.register(NAMESPACE, 'inventory', [{ id: 'a', ipv4: '127.0.0.1', port: a.port }]);
    const inventory = cloudMapClients(fake, 'http://inventory.shop.svc.cluster.local:8080', 150).client(
      'inventory',
    );
    await Promise.all([inventory.get('/1'), inventory.get('/2'), inventory.get('/3')]);
    await inventory.get('/4');
    expect(fake.calls).toHaveLength(1); // concurrent first calls share one request; later ones use the cache

    fake.register(NAMESPACE, 'inventory', [{ id: 'b', ipv4: '127.0.0.1', port: b.port }]);
    expect((await inventory.get('/5')).body).toEqual({ instance: 'a' }); // still cached
    await new Promise((r) => setTimeout(r, 200));
    expect((await inventory.get('/6')).body).toEqual({ instance: 'b' });
    expect(fake.calls).toHaveLength(2);
  });

  it('serves the cached instances while Cloud Map is unreachable', async () => {
    const a = await instance('a');
    const fake = await fakeCloudMap();
    fake.register(NAMESPACE, 'inventory', [{ id: 'a', ipv4: '127.0.0.1', port: a.port }]);
    const inventory = cloudMapClients(fake, 'http://inventory.shop.svc.cluster.local:8080', 50).client(
      'inventory',
    );
    await inventory.get('/1');
    await fake.stop();
    await new Promise((r) => setTimeout(r, 80)); // TTL expired: the next call asks Cloud Map, which is down
    expect((await inventory.get('/2')).body).toEqual({ instance: 'a' });
    expect((await inventory.get('/3')).body).toEqual({ instance: 'a' });
    expect(a.requests).toHaveLength(3);
  });

  it('falls back to the declared (cluster DNS) URL when Cloud Map never answered', async () => {
    const dnsStandIn = await instance('via-dns');
    const fake = await fakeCloudMap();
    await fake.stop();
    const inventory = cloudMapClients(fake, dnsStandIn.url).client('inventory');
    expect((await inventory.get('/stock')).body).toEqual({ instance: 'via-dns' });
  });

  it('fails with a clear error when the peer has no instances', async () => {
    const fake = await fakeCloudMap();
    fake.register(NAMESPACE, 'inventory', []);
    const clients = cloudMapClients(fake, 'http://inventory.shop.svc.cluster.local:8080');
    const err = await clients
      .client('inventory')
      .get('/stock')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerNoInstancesError);
    expect((err as Error).message).toMatch(
      /Peer 'inventory' has no instances in Cloud Map namespace 'shop\.internal'/,
    );
  });

  it('treats a service that is not registered in Cloud Map as having no instances', async () => {
    const fake = await fakeCloudMap();
    const clients = cloudMapClients(fake, 'http://inventory.shop.svc.cluster.local:8080');
    await expect(clients.client('inventory').get('/stock')).rejects.toBeInstanceOf(PeerNoInstancesError);
    expect(fake.calls).toHaveLength(1);
  });
});
