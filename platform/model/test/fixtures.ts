import type {
  RuntimeEnvironment,
  ServiceDefinition,
  SystemDefinition,
  TopicDefinition,
} from '../src/index.js';

/** A small valid system used across the model's tests. */
export const topics: TopicDefinition[] = [
  { name: 'orders', events: ['order.placed', 'order.paid'] },
  { name: 'payments', events: ['payment.completed'] },
];

export const services: ServiceDefinition[] = [
  {
    name: 'orders',
    port: 8081,
    routes: ['/api/orders'],
    calls: ['inventory'],
    publishes: ['orders'],
    consumes: [{ topic: 'payments' }],
    database: true,
  },
  {
    name: 'inventory',
    port: 8083,
    routes: ['/api/inventory'],
    consumes: [{ queue: 'reservations', retryWindowMinutes: 5 }],
  },
  {
    name: 'payments',
    port: 8082,
    publishes: ['payments'],
    sends: [{ service: 'inventory', queue: 'reservations' }],
    consumes: [{ topic: 'orders', events: ['order.placed'], visibilityTimeoutSeconds: 60 }],
    scaling: { kind: 'queue' },
  },
];

export const valid: SystemDefinition = { name: 'shop', services, topics };

export const localEnv: RuntimeEnvironment = {
  name: 'local',
  platform: 'local',
  namespace: 'shop',
  aws: { region: 'us-east-1', accountId: '000000000000' },
  messagingEndpoint: 'http://127.0.0.1:4566',
  discovery: { method: 'static' },
  telemetry: { otlpEndpoint: 'http://127.0.0.1:4318' },
  database: { kind: 'embedded', dataDir: '.dev/data' },
};

export const eksEnv: RuntimeEnvironment = {
  name: 'prod',
  platform: 'eks',
  namespace: 'shop',
  aws: { region: 'eu-west-1', accountId: '123456789012' },
  discovery: { method: 'dns' },
  telemetry: {
    otlpEndpoint: 'http://otel-collector.observability.svc.cluster.local:4318',
    samplingRatio: 0.1,
  },
  database: { kind: 'secret' },
  version: '1.2.3',
};
