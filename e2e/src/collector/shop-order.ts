/**
 * The shop, started as `make dev` starts it but exporting its traces and metrics to a collector under
 * test, and one order placed through its gateway in a trace whose id the test chose: the trace a person
 * would look for after placing an order.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EPHEMERAL_PORTS, startStack, type Stack } from '@flotilla/dev';
import { eventually } from '@flotilla/dev/testing';
import { shop } from '../../../services/system.js';

/** Variables the services take from this process besides envFor's: export often, so a test waits less. */
const FAST_EXPORT = { OTEL_BSP_SCHEDULE_DELAY: '500', OTEL_METRIC_EXPORT_INTERVAL: '1000' };

/** A running shop exporting to `otlpEndpoint`. */
export interface ShopUnderTest {
  readonly stack: Stack;
  /** Stops the services (their SDKs flush what they hold) and removes the state directory. */
  stop(): Promise<void>;
}

/** Starts the shop on ephemeral ports, exporting OTLP/HTTP to `otlpEndpoint`. */
export async function startShop(otlpEndpoint: string): Promise<ShopUnderTest> {
  const stateDir = await mkdtemp(join(tmpdir(), 'shop-collector-'));
  const lines: string[] = [];
  Object.assign(process.env, FAST_EXPORT);
  const stack = await startStack({
    system: shop,
    rootDir: fileURLToPath(new URL('../../../', import.meta.url)),
    stateDir,
    ...EPHEMERAL_PORTS,
    otlpEndpoint,
    inheritEnv: ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', ...Object.keys(FAST_EXPORT)],
    color: false,
    output: (line) => {
      lines.push(line);
      lines.splice(0, Math.max(0, lines.length - 300));
    },
  }).catch(async (err: Error) => {
    await rm(stateDir, { recursive: true, force: true });
    throw new Error(`${err.message}\n--- last stack output ---\n${lines.slice(-60).join('\n')}`);
  });
  return {
    stack,
    stop: async () => {
      await stack.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** A new trace id in X-Ray's form of the W3C id: epoch seconds in the first 4 bytes. */
export function newTraceId(): string {
  return (
    Math.floor(Date.now() / 1000)
      .toString(16)
      .padStart(8, '0') + randomBytes(12).toString('hex')
  );
}

/** Places an order through the gateway inside trace `traceId` and waits until it is PAID; returns its id. */
export async function placePaidOrder(stack: Stack, traceId: string): Promise<string> {
  const res = await fetch(`${stack.gatewayUrl}/api/orders`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    },
    body: JSON.stringify({ customerId: 'collector-check', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] }),
  });
  if (res.status !== 201 && res.status !== 202)
    throw new Error(`POST /api/orders: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  await eventually(
    `order ${id} to be PAID`,
    async () => {
      const order = (await (await fetch(`${stack.gatewayUrl}/api/orders/${id}`)).json()) as {
        status: string;
      };
      if (order.status === 'CANCELLED') throw new Error(`order ${id} was CANCELLED`);
      return order.status === 'PAID' ? true : undefined;
    },
    30_000,
  );
  return id;
}
