import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { ENV, clusterServiceUrl, peerUrlVar } from '@flotilla/model';
import { pino } from 'pino';
import {
  DiscoveryConfigError,
  PeerNoInstancesError,
  PeerNotDeclaredError,
  createServiceClients,
  type ServiceClients,
} from '../src/client/index.js';
import { MOTO_REGION, startMotoCloudMap, type MotoCloudMap } from './support/cloudmap-moto.js';
import { MOTO_CREDENTIALS } from './support/moto-server.js';
import { describeMoto } from './support/moto-tier.js';
import { json, startPeer, type TestPeer } from './support/client-peer.js';

const log = pino({ level: 'silent' });
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

/** Peer clients of service `orders` discovering `inventory` in Cloud Map namespace `namespace`. */
function cloudMapClients(
  namespace: string,
  client: ServiceDiscoveryClient | undefined,
  fallbackUrl: string,
  options: { ttlMs?: number; maxRetries?: number } = {},
): ServiceClients {
  const clients = createServiceClients({
    env: {
      [ENV.serviceName]: 'orders',
      [ENV.discoveryMethod]: 'cloudmap',
      [ENV.cloudMapNamespace]: namespace,
      [peerUrlVar('inventory')]: fallbackUrl,
    },
    log,
    cloudMap: { ...(client ? { client } : {}), ttlMs: options.ttlMs ?? 10_000 },
    defaults: {
      timeoutMs: 300,
      retry:
        options.maxRetries === undefined
          ? { maxRetries: 0 }
          : { maxRetries: options.maxRetries, initialDelayMs: 1, maxDelayMs: 5 },
    },
  });
  cleanups.push(() => clients.close());
  return clients;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const CLUSTER_DNS_URL = 'http://inventory.shop.svc.cluster.local:8080';

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

/**
 * Cloud Map discovery against moto's ServiceDiscovery: namespaces, services and instances are registered
 * through the real API, and the runtime's resolver asks DiscoverInstances with the real SDK. Each test has
 * its own namespace. (The hand-written DiscoverInstances fake these replaced is gone: moto serves every
 * case, including custom health, HEALTHY_OR_ELSE_ALL and ServiceNotFound.)
 */
describeMoto('Cloud Map discovery (moto ServiceDiscovery, real SDK)', () => {
  let cloudMap: MotoCloudMap;
  let n = 0;
  beforeAll(async () => {
    cloudMap = await startMotoCloudMap();
  }, 60_000);
  afterAll(() => cloudMap?.stop());
  const namespace = () => `ns${++n}.shop.internal`;

  it('asks for the peer in the namespace and spreads calls over its instances', async () => {
    const [a, b] = await Promise.all([instance('a'), instance('b')]);
    const ns = namespace();
    await cloudMap.register(ns, 'inventory', [
      { id: 'a', ipv4: '127.0.0.1', port: a.port },
      { id: 'b', ipv4: '127.0.0.1', port: b.port },
    ]);
    const { client, calls } = cloudMap.client();
    const inventory = cloudMapClients(ns, client, CLUSTER_DNS_URL).client('inventory');
    const served: string[] = [];
    for (let i = 0; i < 6; i++)
      served.push((await inventory.get<{ instance: string }>('/stock')).body.instance);
    expect(served.filter((s) => s === 'a')).toHaveLength(3);
    expect(served.filter((s) => s === 'b')).toHaveLength(3);
    expect(calls[0]).toEqual({
      NamespaceName: ns,
      ServiceName: 'inventory',
      HealthStatus: 'HEALTHY_OR_ELSE_ALL',
    });
  });

  it('retries a failed attempt on the next instance', async () => {
    const [down, up] = await Promise.all([instance('down'), instance('up')]);
    await down.close(); // registered, but refusing connections
    const ns = namespace();
    await cloudMap.register(ns, 'inventory', [
      { id: 'down', ipv4: '127.0.0.1', port: down.port },
      { id: 'up', ipv4: '127.0.0.1', port: up.port },
    ]);
    const inventory = cloudMapClients(ns, cloudMap.client().client, CLUSTER_DNS_URL, {
      maxRetries: 1,
    }).client('inventory');
    // Whichever instance the rotation starts with, every call ends on the live one.
    for (let i = 0; i < 4; i++) expect((await inventory.get('/stock')).body).toEqual({ instance: 'up' });
    expect(up.requests).toHaveLength(4);
  });

  it('skips instances whose health is UNHEALTHY, and uses them all when none is healthy', async () => {
    const [a, b] = await Promise.all([instance('a'), instance('b')]);
    const ns = namespace();
    await cloudMap.register(ns, 'inventory', [
      { id: 'a', ipv4: '127.0.0.1', port: a.port, health: 'UNHEALTHY' },
      { id: 'b', ipv4: '127.0.0.1', port: b.port },
    ]);
    const inventory = cloudMapClients(ns, cloudMap.client().client, CLUSTER_DNS_URL, { ttlMs: 0 }).client(
      'inventory',
    );
    for (let i = 0; i < 4; i++) expect((await inventory.get('/stock')).body).toEqual({ instance: 'b' });
    expect(a.requests).toHaveLength(0);
    // HEALTHY_OR_ELSE_ALL: with no healthy instance, every instance rather than none
    await cloudMap.register(ns, 'inventory', [
      { id: 'a', ipv4: '127.0.0.1', port: a.port, health: 'UNHEALTHY' },
      { id: 'b', ipv4: '127.0.0.1', port: b.port, health: 'UNHEALTHY' },
    ]);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++)
      served.add((await inventory.get<{ instance: string }>('/stock')).body.instance);
    expect([...served].sort()).toEqual(['a', 'b']);
  });

  it('caches the answer for the TTL, then asks again and sees new instances', async () => {
    const [a, b] = await Promise.all([instance('a'), instance('b')]);
    const ns = namespace();
    await cloudMap.register(ns, 'inventory', [{ id: 'a', ipv4: '127.0.0.1', port: a.port }]);
    const { client, calls } = cloudMap.client();
    // A TTL far longer than four local calls take, even on a busy machine.
    const inventory = cloudMapClients(ns, client, CLUSTER_DNS_URL, { ttlMs: 2000 }).client('inventory');
    await Promise.all([inventory.get('/1'), inventory.get('/2'), inventory.get('/3')]);
    await inventory.get('/4');
    expect(calls).toHaveLength(1); // concurrent first calls share one request; later ones use the cache

    await cloudMap.register(ns, 'inventory', [{ id: 'b', ipv4: '127.0.0.1', port: b.port }]);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await inventory.get('/5')).body).toEqual({ instance: 'b' });
    expect(calls).toHaveLength(2);
  });

  it('fails with a clear error when the peer has no instances', async () => {
    const ns = namespace();
    await cloudMap.register(ns, 'inventory', []);
    const clients = cloudMapClients(ns, cloudMap.client().client, CLUSTER_DNS_URL);
    const err = await clients
      .client('inventory')
      .get('/stock')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerNoInstancesError);
    expect((err as Error).message).toMatch(
      new RegExp(`Peer 'inventory' has no instances in Cloud Map namespace '${ns}'`),
    );
  });

  it('treats a service that is not registered in Cloud Map as having no instances', async () => {
    const ns = namespace();
    await cloudMap.register(ns, 'payments', []); // the namespace exists, inventory does not
    const { client, calls } = cloudMap.client();
    const clients = cloudMapClients(ns, client, CLUSTER_DNS_URL);
    await expect(clients.client('inventory').get('/stock')).rejects.toBeInstanceOf(PeerNoInstancesError);
    expect(calls).toHaveLength(1);
  });

  it('serves the cached instances while Cloud Map is unreachable', async () => {
    const a = await instance('a');
    const own = await startMotoCloudMap(); // stopped half way: the other tests keep theirs
    cleanups.push(() => own.stop());
    await own.register('shop.internal', 'inventory', [{ id: 'a', ipv4: '127.0.0.1', port: a.port }]);
    const inventory = cloudMapClients('shop.internal', own.client().client, CLUSTER_DNS_URL, {
      ttlMs: 50,
    }).client('inventory');
    await inventory.get('/1');
    await own.stop();
    await new Promise((r) => setTimeout(r, 80)); // TTL expired: the next call asks Cloud Map, which is down
    expect((await inventory.get('/2')).body).toEqual({ instance: 'a' });
    expect((await inventory.get('/3')).body).toEqual({ instance: 'a' });
    expect(a.requests).toHaveLength(3);
  });

  it('reaches Cloud Map at AWS_ENDPOINT_URL_SERVICEDISCOVERY with its own client (no data- host prefix)', async () => {
    const [a, viaDns] = await Promise.all([instance('a'), instance('via-dns')]);
    const ns = namespace();
    await cloudMap.register(ns, 'inventory', [{ id: 'a', ipv4: '127.0.0.1', port: a.port }]);
    // The SDK reads these from the process environment, as in a pod; restored after the test.
    const saved = { ...process.env };
    cleanups.push(() => {
      process.env = saved;
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SERVICEDISCOVERY: cloudMap.endpoint,
      AWS_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    });
    // Without a working Cloud Map the resolver would fall back to the declared URL: `via-dns` answers there.
    const inventory = cloudMapClients(ns, undefined, viaDns.url).client('inventory');
    expect((await inventory.get('/stock')).body).toEqual({ instance: 'a' });
    expect(viaDns.requests).toHaveLength(0);
  });
});

describe('Cloud Map discovery without an answer', () => {
  it('falls back to the declared (cluster DNS) URL when Cloud Map never answered', async () => {
    const dnsStandIn = await instance('via-dns');
    const unreachable = new ServiceDiscoveryClient({
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'none', secretAccessKey: 'none' },
      disableHostPrefix: true,
      maxAttempts: 1,
    });
    cleanups.push(() => unreachable.destroy());
    const inventory = cloudMapClients('shop.internal', unreachable, dnsStandIn.url).client('inventory');
    expect((await inventory.get('/stock')).body).toEqual({ instance: 'via-dns' });
  });
});
