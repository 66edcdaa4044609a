import { type SystemDefinition, type ServiceDefinition } from '@flotilla/model';
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import inventory from '../../services/inventory/service.js';
import notifications from '../../services/notifications/service.js';
import orders from '../../services/orders/service.js';
import payments from '../../services/payments/service.js';
import { shop } from '../../services/system.js';
import { dev, environments } from '../src/environments/index.js';
import * as charts from '../src/index.js';
import { Microservice } from '../src/constructs/microservice.js';
import { render, synth } from '../src/main.js';

const good: SystemDefinition = {
  name: 'shop',
  services: [orders, inventory, payments, notifications],
  topics: shop.topics.map((t) => ({ name: t.name, events: t.events })),
};

/** Every file below a directory, with its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const env of readdirSync(dir))
    for (const f of readdirSync(join(dir, env), { recursive: true, encoding: 'utf8' }))
      if (statSync(join(dir, env, f)).isFile()) out.set(`${env}/${f}`, readFileSync(join(dir, env, f)));
  return out;
}

const withService = (name: string, patch: Partial<ServiceDefinition>): SystemDefinition => ({
  ...good,
  services: good.services.map((s) => (s.name === name ? { ...s, ...patch } : s)),
});

describe('the package entry (@flotilla/charts)', () => {
  it('exports the renderer, the environments and the constructs', () => {
    expect(charts.synth).toBe(synth);
    expect(charts.render).toBe(render);
    expect(charts.environments).toBe(environments);
    expect(charts.Microservice).toBe(Microservice);
  });
});

describe('synth', () => {
  it('writes dist/<env>/ for every environment, byte-identical on a second run', () => {
    const a = mkdtempSync(join(tmpdir(), 'flotilla-synth-a-'));
    const b = mkdtempSync(join(tmpdir(), 'flotilla-synth-b-'));
    try {
      synth(shop, a);
      synth(good, b);
      const first = snapshot(a);
      expect([...new Set([...first.keys()].map((k) => k.split('/')[0]))].sort()).toEqual(
        environments.map((e) => e.name).sort(),
      );
      expect(first.size).toBeGreaterThanOrEqual(environments.length * (shop.services.length + 3));
      const second = snapshot(b);
      expect([...second.keys()]).toEqual([...first.keys()]);
      for (const [file, bytes] of first)
        expect(`${file}: ${bytes.equals(second.get(file)!)}`).toBe(`${file}: true`);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('removes the files of a service that no longer exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-synth-'));
    try {
      synth(good, dir, [dev]);
      expect(existsSync(join(dir, 'dev', '30-service-notifications.k8s.yaml'))).toBe(true);
      synth({ ...good, services: good.services.filter((s) => s.name !== 'notifications') }, dir, [dev]);
      expect(existsSync(join(dir, 'dev', '30-service-notifications.k8s.yaml'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // One bad system per validation rule of the model: synth fails with the ModelError message, writes nothing.
  const bad: [string, SystemDefinition, RegExp][] = [
    [
      'a non-DNS service name',
      withService('orders', { name: 'Orders' }),
      /service "Orders", name: "Orders" is not a DNS-1035 label/,
    ],
    [
      'a duplicate service',
      { ...good, services: [...good.services, orders] },
      /service "orders", name: is declared more than once/,
    ],
    [
      'a duplicate topic',
      { ...good, topics: [...good.topics, good.topics[0]!] },
      /topic "orders", name: is declared more than once/,
    ],
    [
      'a call to an unknown service',
      withService('orders', { calls: ['billing'] }),
      /calls\[0\]: calls unknown service "billing"/,
    ],
    [
      'a service calling itself',
      withService('orders', { calls: ['orders'] }),
      /calls\[0\]: the service calls itself/,
    ],
    [
      'a topic nobody publishes',
      { ...good, topics: [...good.topics, { name: 'audit', events: ['audit.logged'] }] },
      /topic "audit", publishers: no service publishes to it/,
    ],
    [
      'a subscription to an unknown topic',
      withService('inventory', { consumes: [{ topic: 'stock' }] }),
      /subscribes to unknown topic "stock"/,
    ],
    [
      'overlapping public routes',
      withService('inventory', { routes: ['/api/orders/stock'] }),
      /overlaps "\/api\/orders" of service "orders"/,
    ],
    [
      'a port out of range',
      withService('orders', { port: 80 }),
      /service "orders", port: 80 is out of range/,
    ],
    [
      'min > max replicas',
      withService('orders', { replicas: { min: 5, max: 2 } }),
      /service "orders", replicas: min 5 is greater than max 2/,
    ],
    [
      'publishing to an unknown topic',
      withService('orders', { publishes: ['orders', 'refunds'] }),
      /publishes to unknown topic "refunds"/,
    ],
    [
      'queue scaling without a queue',
      withService('orders', { consumes: [], scaling: { kind: 'queue' } }),
      /scales on queue depth but consumes no queue/,
    ],
  ];

  it.each(bad)('fails on %s with the model error and writes nothing', (_rule, system, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-synth-bad-'));
    try {
      expect(() => synth(system, dir)).toThrow(message);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails on a bad environment, naming the environment, the field and the fix, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-synth-bad-'));
    try {
      const latest = { ...dev, image: { ...dev.image, tag: 'latest' } };
      expect(() => synth(good, dir, [latest])).toThrow(
        /environment "dev" has 1 problem:\n {2}- image.tag: "latest" is mutable. Fix: deploy an immutable tag/,
      );
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
