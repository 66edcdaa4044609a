/** Inventory in-process on a test stack, and its HTTP API as orders calls it. */
import { quiet, startTestStack, type TestStack, type TestStackOptions } from '@flotilla/dev/testing';
import { shop } from '../../../system.js';
import { main } from '../../src/main.js';

export type Line = { sku: string; quantity: number };

export interface RunningInventory {
  readonly stack: TestStack;
  readonly inventory: Awaited<ReturnType<typeof main>>;
  readonly url: string;
  available(sku: string): Promise<number>;
  reserve(reservationId: string, orderId: string, items: Line[]): Promise<Response>;
  release(reservationId: string): Promise<{ reservationId: string; released: boolean }>;
  stop(): Promise<void>;
}

/** Starts a test stack and inventory on it, with `vars` on top of its variables. */
export async function startInventory(
  stackOptions: TestStackOptions,
  vars: Record<string, string> = {},
): Promise<RunningInventory> {
  const stack = await startTestStack(shop, stackOptions);
  const inventory = await main({
    env: stack.varsFor('inventory', vars),
    manageProcess: false,
    logDestination: quiet,
  });
  const url = inventory.listening.url;
  return {
    stack,
    inventory,
    url,
    async available(sku) {
      return ((await (await fetch(`${url}/api/inventory/items/${sku}`)).json()) as { available: number })
        .available;
    },
    reserve: (reservationId, orderId, items) =>
      fetch(`${url}/internal/reservations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reservationId, orderId, items }),
      }),
    async release(reservationId) {
      const res = await fetch(`${url}/internal/reservations/${reservationId}/release`, { method: 'POST' });
      return (await res.json()) as { reservationId: string; released: boolean };
    },
    async stop() {
      await inventory.svc.stop();
      await stack.stop();
    },
  };
}
