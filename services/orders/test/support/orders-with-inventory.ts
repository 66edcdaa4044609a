/**
 * Orders and the real inventory service, both in-process on one test stack (embedded Postgres per service),
 * orders calling inventory over HTTP: what the orders tests run against.
 */
import { peerUrlVar } from '@flotilla/model';
import { quiet, startTestStack, type TestStack } from '@flotilla/dev/testing';
import { main as inventoryMain } from '../../../inventory/src/main.js';
import { shop } from '../../../system.js';
import { main } from '../../src/main.js';

export interface OrdersWithInventory {
  readonly stack: TestStack;
  readonly inventory: Awaited<ReturnType<typeof inventoryMain>>;
  readonly orders: Awaited<ReturnType<typeof main>>;
  /** Units of `sku` inventory has available, read through its catalogue API. */
  available(sku: string): Promise<number>;
  /** Stops orders, then inventory, then the stack. */
  stop(): Promise<void>;
}

/**
 * Starts inventory, then orders with its inventory peer URL set to `inventoryUrl(inventory's own URL)`
 * (a proxy in front of inventory, say). @default - inventory's own URL
 */
export async function startOrdersWithInventory(
  inventoryUrl: (url: string) => Promise<string> | string = (url) => url,
): Promise<OrdersWithInventory> {
  const stack = await startTestStack(shop);
  const inventory = await inventoryMain({
    env: stack.varsFor('inventory'),
    manageProcess: false,
    logDestination: quiet,
  });
  const orders = await main({
    env: stack.varsFor('orders', {
      [peerUrlVar('inventory')]: await inventoryUrl(inventory.listening.url),
    }),
    manageProcess: false,
    logDestination: quiet,
  });
  return {
    stack,
    inventory,
    orders,
    async available(sku) {
      const res = await fetch(`${inventory.listening.url}/api/inventory/items/${sku}`);
      return ((await res.json()) as { available: number }).available;
    },
    async stop() {
      await orders.svc.stop();
      await inventory.svc.stop().catch(() => undefined);
      await stack.stop();
    },
  };
}
