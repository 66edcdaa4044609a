/**
 * The shop end to end, started the way `make dev` starts it (startStack: emulator, databases, one process
 * per service with envFor's variables, gateway), on ephemeral ports and a temporary state directory.
 * Everything goes through the gateway, as a newcomer's curl would. Last, the trace page in a real browser.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EPHEMERAL_PORTS, startStack, type Stack } from '@flotilla/dev';
import { eventually } from '@flotilla/dev/testing';
import { apis } from '../../services/apis.js';
import { shop } from '../../services/system.js';
import { findChromium, launchBrowser } from '../src/browser.js';
import {
  filterByService,
  listedTraces,
  openSpan,
  openTrace,
  shownSpans,
  toggleErrorsOnly,
} from '../src/trace-page.js';

let stack: Stack;
let stateDir: string;
const lines: string[] = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'shop-e2e-'));
  stack = await startStack({
    system: shop,
    rootDir: fileURLToPath(new URL('../../', import.meta.url)),
    stateDir,
    ...EPHEMERAL_PORTS,
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

/** An X-Ray-compatible trace id (first 8 hex digits: epoch seconds), new each call. */
const newTraceId = () => `${Math.floor(Date.now() / 1000).toString(16)}${randomBytes(12).toString('hex')}`;

/** The trace's spans in the sink, once `done` holds for them. */
const traceInSink = (what: string, traceId: string, done: (spans: TraceSpan[]) => boolean) =>
  eventually(
    what,
    async () => {
      const traces = (await (await fetch(`${stack.traceSinkUrl}/api/traces`)).json()) as TraceRecord[];
      const spans = traces.find((t) => t.traceId === traceId)?.spans ?? [];
      return done(spans) ? spans : undefined;
    },
    30_000,
  );

/**
 * The API documentation page (the gateway's /docs/) in Debian's chromium, headless: Swagger UI shows every
 * operation of the public document, and the page loads nothing but what the gateway serves (no CDN: the
 * machines have no internet). A screenshot goes to a temporary directory whose path is printed. Skipped
 * without chromium, as the trace page test below is.
 */
describe('the API documentation page in a real browser', () => {
  const chromium = findChromium();
  if (!chromium) {
    test.skip('skipped: chromium is not installed (apt-get install chromium, or FLOTILLA_CHROMIUM=<path>)', () =>
      undefined);
    return;
  }
  test('shows every public operation, with everything loaded from the gateway', async () => {
    const doc = (await (await fetch(`${stack.gatewayUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const expected = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const browser = await launchBrowser(chromium);
    try {
      const page = await browser.newPage();
      await page.goto(`${stack.gatewayUrl}/docs/`);
      const shown = await page.evaluate<string[]>(`new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          const ops = [...document.querySelectorAll('.opblock')].map((op) =>
            op.querySelector('.opblock-summary-method').textContent.trim() + ' ' +
            op.querySelector('.opblock-summary-path').getAttribute('data-path'));
          if (ops.length > 0) resolve(ops.sort());
          else if (Date.now() - started > 20000) reject(new Error('no operation shown: ' + document.body.innerText.slice(0, 500)));
          else setTimeout(poll, 100);
        };
        poll();
      })`);
      expect(shown).toEqual(expected);
      const loaded = await page.evaluate<string[]>(
        `performance.getEntriesByType('resource').map((e) => e.name)`,
      );
      expect(loaded.filter((url) => !url.startsWith(`${stack.gatewayUrl}/`))).toEqual([]);
      expect(loaded).toContain(`${stack.gatewayUrl}/openapi.json`);
      const shots = await mkdtemp(join(tmpdir(), 'api-docs-page-'));
      await page.screenshot(join(shots, 'docs.png'), 1400);
      console.log(`API documentation page: ${join(shots, 'docs.png')}`);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

/**
 * The trace page (`make dev`'s :4318/traces) in Debian's chromium, headless, after an order: listed by its
 * route with the services it crossed, nothing of the consumers' polling listed, the service and error
 * filters, and the order's spans with their durations and attributes. It runs last: it stops inventory.
 * Screenshots of the three views go to a temporary directory whose paths are printed. Without chromium it
 * is skipped with a message, and fails in CI (CI=true), which installs it (`apt-get install -y chromium`).
 */
describe('the trace page in a real browser', () => {
  const chromium = findChromium();
  if (!chromium) {
    if (process.env.CI === 'true')
      test('chromium is installed', () => {
        throw new Error(
          'CI=true but chromium is not installed: the trace page test needs it ' +
            '(apt-get install -y chromium, or FLOTILLA_CHROMIUM=<path>).',
        );
      });
    else
      test.skip('skipped: chromium is not installed (apt-get install chromium, or FLOTILLA_CHROMIUM=<path>)', () =>
        undefined);
    return;
  }
  const ORDER_SERVICES = ['inventory', 'notifications', 'orders', 'payments'];
  const order = (traceId: string) =>
    fetch(`${stack.gatewayUrl}/api/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
      body: JSON.stringify({ customerId: 'e2e-trace-page', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] }),
    });

  test('lists the order by its route, filters by service and errors, and shows its spans with attributes', async () => {
    // An order that goes all the way to its notification.
    const paid = newTraceId();
    expect((await order(paid)).status).toBe(201);
    await traceInSink('the order trace up to the notifications consumer', paid, (spans) =>
      ['notifications', 'orders'].every((s) =>
        spans.some((x) => x.service === s && x.kind === SPAN_KIND.consumer),
      ),
    );
    // A failed one: inventory is gone, so orders cannot reserve the stock and answers 503.
    await stack.stopInstance('inventory', stack.instances('inventory')[0]!.pid!);
    const failed = newTraceId();
    expect((await order(failed)).status).toBe(503);
    await traceInSink('the failed order trace', failed, (spans) =>
      spans.some((s) => s.service === 'orders' && s.kind === SPAN_KIND.server),
    );

    const shots = await mkdtemp(join(tmpdir(), 'trace-page-'));
    const browser = await launchBrowser(chromium);
    try {
      const page = await browser.newPage();
      await page.goto(`${stack.traceSinkUrl}/traces`);
      await page.screenshot(join(shots, 'traces.png'), 900);
      const all = await listedTraces(page);
      // By what started them, newest first: the failed order, then the paid one with every service it crossed.
      expect(all.slice(0, 2).map((t) => [t.traceId, t.title])).toEqual([
        [failed, 'POST /api/orders'],
        [paid, 'POST /api/orders'],
      ]);
      expect(all[1]!.services).toEqual(ORDER_SERVICES);
      // Requests and events only: nothing of the consumers' long polls and housekeeping.
      expect(all.map((t) => t.title).filter((t) => /receive|Message|SQS/.test(t))).toEqual([]);

      await filterByService(page, 'payments');
      expect(await page.evaluate<string>('location.search')).toBe('?service=payments');
      const withPayments = await listedTraces(page);
      expect(withPayments[0]!.traceId).toBe(paid);
      expect(withPayments.map((t) => t.traceId)).not.toContain(failed);

      await filterByService(page, '');
      await toggleErrorsOnly(page);
      expect(await page.evaluate<string>('location.search')).toBe('?service=&errors=1');
      const errors = await listedTraces(page);
      expect(errors.map((t) => t.traceId)).toContain(failed);
      expect(errors.map((t) => t.traceId)).not.toContain(paid);
      expect(errors.every((t) => t.errors.includes('✗'))).toBe(true);
      await page.screenshot(join(shots, 'traces-errors.png'), 900);

      await filterByService(page, 'payments');
      await toggleErrorsOnly(page);
      await openTrace(page, paid);
      expect(await page.evaluate<string>('document.querySelector("#title").textContent')).toBe(
        'POST /api/orders',
      );
      const spans = await shownSpans(page);
      expect([...new Set(spans.map((s) => s.service))].sort()).toEqual(ORDER_SERVICES);
      expect(spans[0]!.label).toMatch(/^server\s*orders POST \/api\/orders$/);
      expect(spans.map((s) => s.label)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/inventory POST \/internal\/reservations/),
          expect.stringMatching(/payments process /),
          expect.stringMatching(/notifications process /),
        ]),
      );
      expect(spans.every((s) => /\d (µs|ms|s)$/.test(s.duration))).toBe(true);
      expect(await openSpan(page, 'payments', 'process')).toMatchObject({
        'span kind': 'consumer',
        'flotilla.event.type': 'order.placed',
      });
      await page.screenshot(join(shots, 'trace.png'));
      process.stdout.write(
        `trace page screenshots: ${['traces.png', 'traces-errors.png', 'trace.png'].map((f) => join(shots, f)).join(' ')}\n`,
      );
    } finally {
      await browser.close();
    }
  }, 120_000);
});
