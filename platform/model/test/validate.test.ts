import {
  defineSystem,
  isSystem,
  ModelError,
  prefixesOverlap,
  retryPolicy,
  validateSystem,
  type SystemDefinition,
} from '../src/index.js';
import { services, topics, valid } from './fixtures.js';

function problemsOf(def: SystemDefinition): string[] {
  return validateSystem(def).map((p) => `${p.where} ${p.field}: ${p.message}`);
}

function withService(name: string, patch: object): SystemDefinition {
  return { ...valid, services: services.map((s) => (s.name === name ? { ...s, ...patch } : s)) };
}

describe('validateSystem', () => {
  it('accepts a valid system and applies defaults', () => {
    expect(validateSystem(valid)).toEqual([]);
    const sys = defineSystem(valid);
    const orders = sys.service('orders');
    expect(orders.replicas).toEqual({ min: 2, max: 10 });
    expect(orders.scaling).toEqual({ kind: 'cpu', targetUtilization: 70 });
    expect(orders.consumes[0]).toMatchObject({
      kind: 'topic',
      key: 'payments',
      retryWindowMinutes: 15,
      maxReceiveCount: retryPolicy(15).maxReceiveCount,
      visibilityTimeoutSeconds: 30,
      handlerTimeoutSeconds: 30,
    });
    expect(sys.service('inventory').consumes[0]).toMatchObject({
      kind: 'queue',
      key: 'reservations',
      retryWindowMinutes: 5,
      maxReceiveCount: retryPolicy(5).maxReceiveCount,
    });
    expect(sys.service('payments').consumes[0]).toMatchObject({
      visibilityTimeoutSeconds: 60,
      handlerTimeoutSeconds: 60,
    });
    expect(() => sys.service('nope')).toThrow(/no service "nope" \(services: orders, inventory, payments\)/);
  });

  it('tells a defined system from its definition', () => {
    expect(isSystem(defineSystem(valid))).toBe(true);
    expect(isSystem(valid)).toBe(false);
    expect(isSystem(undefined)).toBe(false);
  });

  const cases: [string, SystemDefinition, RegExp][] = [
    [
      'duplicate service names',
      { ...valid, services: [...services, services[0]!] },
      /service "orders" name: is declared more than once/,
    ],
    [
      'non-DNS-1035 service name',
      withService('orders', { name: 'Orders_API' }),
      /service "Orders_API" name: "Orders_API" is not a DNS-1035 label/,
    ],
    [
      'call to an unknown service',
      withService('orders', { calls: ['invntory'] }),
      /service "orders" calls\[0\]: calls unknown service "invntory"/,
    ],
    [
      'a service calling itself',
      withService('orders', { calls: ['orders'] }),
      /service "orders" calls\[0\]: the service calls itself/,
    ],
    [
      'a topic nobody publishes',
      { ...valid, topics: [...topics, { name: 'audit', events: ['audit.logged'] }] },
      /topic "audit" publishers: no service publishes to it/,
    ],
    [
      'a redrive count set by hand (it is derived from the retry window)',
      withService('payments', { consumes: [{ topic: 'orders', maxReceiveCount: 5 }] }),
      /service "payments" consumes\[0\].maxReceiveCount: is no longer set by hand: the redrive count is derived from retryWindowMinutes/,
    ],
    [
      'a retry window longer than SQS redrive counts allow',
      withService('payments', { consumes: [{ topic: 'orders', retryWindowMinutes: 721 }] }),
      /consumes\[0\].retryWindowMinutes: 721 is out of range/,
    ],
    [
      'a handler deadline the heartbeat cannot reach within 12 hours of the receipt',
      withService('payments', {
        consumes: [{ topic: 'orders', visibilityTimeoutSeconds: 600, handlerTimeoutSeconds: 42_601 }],
      }),
      /consumes\[0\].handlerTimeoutSeconds: 42601 is out of range/,
    ],
    [
      'subscription to an unknown topic',
      withService('payments', { consumes: [{ topic: 'ordres' }] }),
      /service "payments" consumes\[0\]: subscribes to unknown topic "ordres"/,
    ],
    [
      'filter on an event the topic does not carry',
      withService('payments', { consumes: [{ topic: 'orders', events: ['order.shipped'] }] }),
      /consumes\[0\].events\[0\]: topic "orders" carries no event "order.shipped"/,
    ],
    [
      'overlapping public routes',
      withService('inventory', { routes: ['/api/orders/stock'] }),
      /service "inventory" routes\[0\]: "\/api\/orders\/stock" overlaps "\/api\/orders" of service "orders"/,
    ],
    ['port out of range', withService('orders', { port: 80 }), /service "orders" port: 80 is out of range/],
    [
      'min > max replicas',
      withService('orders', { replicas: { min: 5, max: 2 } }),
      /service "orders" replicas: min 5 is greater than max 2/,
    ],
    [
      'publish to an unknown topic',
      withService('orders', { publishes: ['orders', 'billing'] }),
      /publishes\[1\]: publishes to unknown topic "billing"/,
    ],
    [
      'send to a queue that does not exist',
      withService('payments', { sends: [{ service: 'inventory', queue: 'nope' }] }),
      /service "inventory" has no command queue "nope"/,
    ],
    [
      'queue scaling without a queue',
      withService('orders', { consumes: [], scaling: { kind: 'queue' } }),
      /scales on queue depth but consumes no queue/,
    ],
    [
      'queue name over the SQS limit',
      withService('inventory', { consumes: [{ queue: 'a'.repeat(63) }] }),
      /over the SQS limit of 80/,
    ],
  ];

  it.each(cases)('rejects %s with a message naming the place', (_label, def, expected) => {
    const problems = problemsOf(def);
    expect(problems.some((p) => expected.test(p))).toBe(true);
  });

  it('reports every problem at once, each with a fix', () => {
    const bad: SystemDefinition = {
      name: 'shop',
      topics,
      services: [
        { ...services[0]!, calls: ['ghost'], port: 70000 },
        { ...services[1]!, replicas: { min: 3, max: 1 } },
        services[2]!,
      ],
    };
    let error: unknown;
    try {
      defineSystem(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelError);
    const e = error as ModelError;
    expect(e.problems).toHaveLength(3);
    expect(e.message).toContain('system "shop" has 3 problems');
    expect(e.message).toContain(
      'service "orders", calls[0]: calls unknown service "ghost". Fix: declare "ghost"',
    );
    expect(e.message).toContain('service "orders", port: 70000 is out of range');
    expect(e.message).toContain(
      'service "inventory", replicas: min 3 is greater than max 1. Fix: make min <= max',
    );
  });
});

describe('prefixesOverlap', () => {
  it.each([
    ['/api/orders', '/api/orders', true],
    ['/api/orders', '/api/orders/', true],
    ['/api/orders', '/api/orders/items', true],
    ['/api/orders', '/api/ordersx', false],
    ['/api/orders', '/api/inventory', false],
    ['/', '/anything', true],
  ])('%s vs %s -> %s', (a, b, expected) => {
    expect(prefixesOverlap(a, b)).toBe(expected);
  });
});
