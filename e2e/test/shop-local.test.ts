/**
 * The shop end to end, started the way `make dev` starts it (startStack: emulator, databases, one process
 * per service with envFor's variables, gateway), on ephemeral ports and a temporary state directory.
 * Everything goes through the gateway, as a newcomer's curl would.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, type Stack } from '@flotilla/dev';
import { eventually } from '@flotilla/dev/testing';
import { apis } from '../../services/apis.js';
import { shop } from '../../services/system.js';

let stack: Stack;
let stateDir: string;
const lines: string[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'shop-e2e-'));
  stack = await startStack({
    system: shop,
    rootDir: fileURLToPath(new URL('../../', import.meta.url)),
    stateDir,
    servicePorts: 'ephemeral',
    gatewayPort: 0,
    emulatorPort: 0,
    traceSinkPort: 0,
    color: false,
    // Kept for the failure message: a service that does not come up says why in its log lines.
    output: (line) => {
      lines.push(line);
      if (lines.length > 400) lines.shift();
    },
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n--- last stack output ---\n${lines.slice(-60).join('\n')}`);
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}, 60_000);

interface Order {
  id: string;
  status: 'PENDING' | 'PAID' | 'CANCELLED';
  totalCents: number;
}
interface Notification {
  orderId: string;
  outcome: string;
}

async function placeOrder(items: { sku: string; quantity: number }[], key?: string): Promise<Response> {
  return fetch(`${stack.gatewayUrl}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify({ customerId: 'e2e-customer', items }),
  });
}
async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${stack.gatewayUrl}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}
/** Waits for the order to reach `status`; an order that ends in the other final status fails at once. */
const waitForStatus = (id: string, status: Order['status'], timeoutMs = 20_000): Promise<Order> =>
  eventually(
    `order ${id} to be ${status}`,
    async () => {
      const order = await getJson<Order>(`/api/orders/${id}`);
      expect(['PENDING', status]).toContain(order.status);
      return order.status === status ? order : undefined;
    },
    timeoutMs,
  );
/** The order's notifications, once there is at least one. */
const notificationsOf = (orderId: string): Promise<Notification[]> =>
  eventually(
    `a notification for order ${orderId}`,
    async () => {
      const { notifications } = await getJson<{ notifications: Notification[] }>(
        `/api/notifications?orderId=${orderId}`,
      );
      return notifications.length > 0 ? notifications : undefined;
    },
    10_000,
  );
const available = async (sku: string) =>
  (await getJson<{ available: number }>(`/api/inventory/items/${sku}`)).available;

describe('the shop on the local stack', () => {
  test('an order placed through the gateway reaches PAID and gets one notification', async () => {
    const res = await placeOrder([{ sku: 'SKU-CHEAP', quantity: 2 }]);
    expect(res.status).toBe(201);
    const order = (await res.json()) as Order;
    expect(order).toMatchObject({ status: 'PENDING', totalCents: 1000 });
    await waitForStatus(order.id, 'PAID');
    const notes = await notificationsOf(order.id);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive right behind
    expect(await notificationsOf(order.id)).toEqual(notes);
    expect(notes).toEqual([expect.objectContaining({ orderId: order.id, outcome: 'PAID' })]);
  }, 60_000);

  test('a SKU-LUXURY order is declined: CANCELLED, its stock released, one notification', async () => {
    const before = await available('SKU-LUXURY');
    const res = await placeOrder([{ sku: 'SKU-LUXURY', quantity: 1 }]);
    expect(res.status).toBe(201);
    const order = (await res.json()) as Order;
    expect(order.totalCents).toBe(75_000);
    expect(await available('SKU-LUXURY')).toBe(before - 1);
    await waitForStatus(order.id, 'CANCELLED');
    await eventually(
      'SKU-LUXURY stock released',
      async () => ((await available('SKU-LUXURY')) === before ? true : undefined),
      10_000,
    );
    expect(await notificationsOf(order.id)).toEqual([
      expect.objectContaining({ orderId: order.id, outcome: 'CANCELLED' }),
    ]);
  }, 60_000);

  test('the same order sent twice with one Idempotency-Key is one order, charged once', async () => {
    const key = `e2e-${Date.now()}`;
    const first = await placeOrder([{ sku: 'SKU-RARE', quantity: 1 }], key);
    const second = await placeOrder([{ sku: 'SKU-RARE', quantity: 1 }], key);
    expect([first.status, second.status]).toEqual([201, 201]);
    const [a, b] = (await Promise.all([first.json(), second.json()])) as Order[];
    expect(b!.id).toBe(a!.id);
    expect(await available('SKU-RARE')).toBe(4);
    await waitForStatus(a!.id, 'PAID');
    const payments = stack.services().find((s) => s.name === 'payments')!;
    const charges = (await (await fetch(`${payments.url}/internal/payments?orderId=${a!.id}`)).json()) as {
      payments: unknown[];
    };
    expect(charges.payments).toHaveLength(1);
  }, 60_000);

  test('one trace follows an order from the gateway through HTTP, SNS->SQS and every consumer', async () => {
    // The caller starts the trace, so the test knows its id: X-Ray-compatible (first 8 hex: epoch seconds).
    const traceId = `${Math.floor(Date.now() / 1000).toString(16)}${'a1b2c3d4e5f6a7b8c9d0e1f2'}`;
    const callerSpan = '00f067aa0ba902b7';
    const res = await fetch(`${stack.gatewayUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ customerId: 'e2e-trace', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] }),
    });
    expect(res.status).toBe(201);
    const order = (await res.json()) as Order;
    await waitForStatus(order.id, 'PAID');
    await notificationsOf(order.id);

    // Spans arrive in batches: wait until the last hops (orders and notifications consuming) are exported.
    const spanOf = (spans: TraceSpan[], service: string, kind: number) =>
      spans.some((s) => s.service === service && s.kind === kind);
    const spans = await eventually(
      'the consumers of the trace to be exported',
      async () => {
        const traces = (await (await fetch(`${stack.traceSinkUrl}/api/traces`)).json()) as TraceRecord[];
        const found = traces.find((t) => t.traceId === traceId)?.spans ?? [];
        const done =
          spanOf(found, 'notifications', SPAN_KIND.consumer) && spanOf(found, 'orders', SPAN_KIND.consumer);
        return done ? found : undefined;
      },
      20_000,
    );
    const has = (service: string, kind: number) => spanOf(spans, service, kind);

    // Every hop is in this one trace: the HTTP request, the call to inventory, the events and their consumers.
    expect(has('orders', SPAN_KIND.server)).toBe(true);
    expect(has('orders', SPAN_KIND.client)).toBe(true);
    expect(has('inventory', SPAN_KIND.server)).toBe(true);
    expect(has('payments', SPAN_KIND.consumer)).toBe(true);
    expect(has('orders', SPAN_KIND.consumer)).toBe(true);
    expect(has('notifications', SPAN_KIND.consumer)).toBe(true);
    // Parent links are intact: every span's parent is the caller's span or another span of the trace.
    const ids = new Set(spans.map((s) => s.spanId));
    const orphans = spans.filter((s) => s.parentSpanId !== callerSpan && !ids.has(s.parentSpanId ?? ''));
    expect(orphans.map((s) => `${s.service} ${s.name}`)).toEqual([]);
    // The inventory request is a child of an orders CLIENT span; each consumer of a PRODUCER span.
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: TraceSpan) => byId.get(s.parentSpanId ?? '');
    const inventoryServer = spans.find((s) => s.service === 'inventory' && s.kind === SPAN_KIND.server)!;
    expect(parentOf(inventoryServer)).toMatchObject({ service: 'orders', kind: SPAN_KIND.client });
    for (const consumer of spans.filter((s) => s.kind === SPAN_KIND.consumer && s.name.includes('process'))) {
      expect(parentOf(consumer)?.kind).toBe(SPAN_KIND.producer);
    }
  }, 60_000);

  test('the gateway and every service serve the documents committed in docs/api (fresh, from the running code)', async () => {
    const committed = (file: string) =>
      JSON.parse(
        readFileSync(fileURLToPath(new URL(`../../docs/api/${file}`, import.meta.url)), 'utf8'),
      ) as unknown;
    expect(await (await fetch(`${stack.gatewayUrl}/openapi.json`)).json()).toEqual(committed('public.json'));
    const declared = stack.services().filter((s) => s.name in apis);
    expect(declared.length).toBeGreaterThan(0);
    for (const service of declared)
      expect([service.name, await (await fetch(`${service.url}/openapi.json`)).json()]).toEqual([
        service.name,
        committed(`${service.name}.json`),
      ]);
    const page = await fetch(`${stack.gatewayUrl}/docs/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>shop public API</title>');
  });

  test('payments killed (SIGKILL) with an order on its way: restarted, the order still PAID, charged once', async () => {
    const paymentsOf = () => stack.services().find((s) => s.name === 'payments')!;
    const killed = paymentsOf().pid!;
    process.kill(killed, 'SIGKILL');
    // Placed while payments is down, order.placed waits in payments' queue. The long poll the killed process
    // left open may still take it: then it is redelivered once the queue's visibility timeout (30 s) passes.
    const res = await placeOrder([{ sku: 'SKU-CHEAP', quantity: 1 }]);
    expect(res.status).toBe(201);
    const order = (await res.json()) as Order;
    await waitForStatus(order.id, 'PAID', 50_000);
    const payments = paymentsOf();
    expect(payments).toMatchObject({ state: 'running' });
    expect(payments.pid).not.toBe(killed);
    const charges = (await (await fetch(`${payments.url}/internal/payments?orderId=${order.id}`)).json()) as {
      payments: unknown[];
    };
    expect(charges.payments).toHaveLength(1);
  }, 90_000);
});

/** OTLP span kinds. @see https://opentelemetry.io/docs/specs/otel/trace/api/#spankind */
const SPAN_KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;
interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  kind: number;
}
interface TraceRecord {
  traceId: string;
  spans: TraceSpan[];
}
