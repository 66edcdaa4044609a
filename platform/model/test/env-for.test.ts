import { defineSystem, envFor, literalEnv, messagingResources, ENV } from '../src/index.js';
import { eksEnv, localEnv, valid } from './fixtures.js';

const system = defineSystem(valid);

describe('envFor', () => {
  it('gives a local service static peer URLs, emulator endpoints, its queues and an embedded database', () => {
    const env = envFor(system, 'orders', localEnv);
    expect(env).toMatchObject({
      SERVICE_NAME: 'orders',
      PORT: '8081',
      FLOTILLA_ENVIRONMENT: 'local',
      DISCOVERY_METHOD: 'static',
      PEER_INVENTORY_URL: 'http://127.0.0.1:8083',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566',
      TOPIC_ORDERS_ARN: 'arn:aws:sns:us-east-1:000000000000:shop-local-orders',
      CONSUME_PAYMENTS_QUEUE_URL:
        'http://sqs.us-east-1.localhost:4566/000000000000/shop-local-orders-payments',
      CONSUME_PAYMENTS_DLQ_URL:
        'http://sqs.us-east-1.localhost:4566/000000000000/shop-local-orders-payments-dlq',
      CONSUME_PAYMENTS_VISIBILITY_TIMEOUT_SECONDS: '30',
      CONSUME_PAYMENTS_HANDLER_TIMEOUT_SECONDS: '30',
      CONSUME_PAYMENTS_RETRY_WINDOW_MINUTES: '15',
      DATABASE_DIR: '.dev/data/orders',
      OTEL_SERVICE_NAME: 'orders',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      SHUTDOWN_DRAIN_MS: '0',
    });
    expect(env[ENV.podName]).toBeUndefined();
    expect(literalEnv(env)).toEqual(env); // locally everything is a literal
  });

  it('gives only what a service declared: no peers, topics or database it did not ask for', () => {
    const env = envFor(system, 'inventory', localEnv);
    expect(Object.keys(env).filter((k) => k.startsWith('PEER_') || k.startsWith('TOPIC_'))).toEqual([]);
    expect(env.DATABASE_DIR).toBeUndefined();
    expect(env.CONSUME_RESERVATIONS_QUEUE_URL).toBe(
      'http://sqs.us-east-1.localhost:4566/000000000000/shop-local-inventory-reservations',
    );
    // the queue's settings from the model, which the consumer reads (the redrive count is the charts')
    expect(env.CONSUME_RESERVATIONS_RETRY_WINDOW_MINUTES).toBe('5');
    expect(envFor(system, 'payments', localEnv)).toMatchObject({
      CONSUME_ORDERS_VISIBILITY_TIMEOUT_SECONDS: '60',
      CONSUME_ORDERS_HANDLER_TIMEOUT_SECONDS: '60',
    });
  });

  it('on EKS uses cluster DNS, real AWS queue URLs, a database Secret and the downward API', () => {
    const env = envFor(system, 'payments', eksEnv);
    expect(env.SEND_INVENTORY_RESERVATIONS_QUEUE_URL).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/shop-prod-inventory-reservations',
    );
    expect(env.AWS_ENDPOINT_URL_SQS).toBeUndefined();
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(env.OTEL_TRACES_SAMPLER_ARG).toBe('0.1');
    expect(env.POD_NAME).toEqual({ field: 'metadata.name' });
    expect(env.NODE_NAME).toEqual({ field: 'spec.nodeName' });
    expect(envFor(system, 'orders', eksEnv).PEER_INVENTORY_URL).toBe(
      'http://inventory.shop.svc.cluster.local:8083',
    );
    expect(envFor(system, 'orders', eksEnv).DATABASE_URL).toEqual({
      secret: { name: 'orders-db', key: 'url' },
    });
  });

  it('honours port overrides for every side of a static call', () => {
    const env = envFor(system, 'orders', { ...localEnv, ports: { orders: 40001, inventory: 40002 } });
    expect(env.PORT).toBe('40001');
    expect(env.PEER_INVENTORY_URL).toBe('http://127.0.0.1:40002');
  });

  it('names only queues and topics that messagingResources creates', () => {
    const resources = messagingResources(system, localEnv);
    const urls = new Set(resources.queues.flatMap((q) => [q.url, q.dlq.url]));
    const arns = new Set(resources.topics.map((t) => t.arn));
    const namedUrls = new Set<unknown>();
    const namedArns = new Set<unknown>();
    for (const service of system.services) {
      for (const [key, value] of Object.entries(envFor(system, service.name, localEnv))) {
        if (key.endsWith('_QUEUE_URL') || key.endsWith('_DLQ_URL')) namedUrls.add(value);
        if (key.startsWith('TOPIC_')) namedArns.add(value);
      }
    }
    // Every name is a created resource, and (in this system) every created resource is named by someone.
    expect(namedUrls).toEqual(urls);
    expect(namedArns).toEqual(arns);
  });
});

describe('messagingResources', () => {
  it('gives every consumed queue a DLQ and feeds topic queues with a filtered subscription', () => {
    const { topics, queues } = messagingResources(system, eksEnv);
    expect(topics.map((t) => t.name)).toEqual(['shop-prod-orders', 'shop-prod-payments']);
    const payments = queues.find((q) => q.service === 'payments')!;
    expect(payments).toMatchObject({
      name: 'shop-prod-payments-orders',
      visibilityTimeoutSeconds: 60,
      dlq: {
        name: 'shop-prod-payments-orders-dlq',
        arn: 'arn:aws:sqs:eu-west-1:123456789012:shop-prod-payments-orders-dlq',
      },
      subscription: {
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:shop-prod-orders',
        filterPolicy: { type: ['order.placed'] },
      },
    });
    expect(queues.find((q) => q.service === 'orders')!.subscription!.filterPolicy).toBeUndefined();
    expect(queues.find((q) => q.service === 'inventory')!.subscription).toBeUndefined();
  });

  it('refuses an environment whose name makes a queue name longer than SQS allows, naming the fix', () => {
    const longEnv = { ...eksEnv, name: 'x'.repeat(70) };
    expect(() => messagingResources(system, longEnv)).toThrow(
      /service "orders" consumes "payments": in environment "x{70}" its dead-letter queue "shop-x{70}-orders-payments-dlq" is \d+ characters, over the SQS limit of 80/,
    );
  });
});
