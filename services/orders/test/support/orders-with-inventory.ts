/**
 * Orders and the real inventory service, both in-process on one test stack (a database per service),
 * orders calling inventory over HTTP: what the orders tests run against.
 */
import { peerUrlVar } from '@flotilla/model';
import { quiet, startTestStack, type TestStack, type TestStackOptions } from '@flotilla/dev/testing';
import { SEED_ITEMS } from '../../../inventory/src/catalogue.js';
import { main as inventoryMain } from '../../../inventory/src/main.js';
import { shop } from '../../../system.js';
import { main } from '../../src/main.js';

export interface OrdersWithInventory {
  readonly stack: TestStack;
  readonly inventory: Awaited<ReturnType<typeof inventoryMain>>;
  /** The orders process running now (see `startOrders`). */
  readonly orders: Awaited<ReturnType<typeof main>>;
  /** The variables orders runs with (its inventory URL included), e.g. for another orders process. */
  readonly ordersVars: Record<string, string>;
  /** Starts orders again, in-process, on the same database (after the last one stopped or crashed). */
  startOrders(): Promise<void>;
  /** Units of `sku` inventory has available, read through its catalogue API. */
  available(sku: string): Promise<number>;
  /**
   * The stock invariant, per SKU of the catalogue: what it started with = what is available + what the
   * orders stored and not cancelled hold. One sentence per SKU that breaks it (none: it holds).
   */
  stockProblems(): Promise<string[]>;
  /** Stops orders, then inventory, then the stack. */
  stop(): Promise<void>;
}

/**
 * Starts inventory, then orders with its inventory peer URL set to `inventoryUrl(inventory's own URL)`
 * (a proxy in front of inventory, say), on a stack with `stackOptions` (e.g. the databases on a server).
 */
export async function startOrdersWithInventory(
  inventoryUrl: (url: string) => Promise<string> | string = (url) => url,
  stackOptions: TestStackOptions = {},
): Promise<OrdersWithInventory> {
  const stack = await startTestStack(shop, stackOptions);
  const inventory = await inventoryMain({
    env: stack.varsFor('inventory'),
    manageProcess: false,
    logDestination: quiet,
  });
  const ordersVars = stack.varsFor('orders', {
    [peerUrlVar('inventory')]: await inventoryUrl(inventory.listening.url),
  });
  const startOrders = () => main({ env: ordersVars, manageProcess: false, logDestination: quiet });
  let orders = await startOrders();
  const available = async (sku: string) => {
    const res = await fetch(`${inventory.listening.url}/api/inventory/items/${sku}`);
    return ((await res.json()) as { available: number }).available;
  };
  const stockProblemsNow = async (): Promise<string[]> => {
    const live = await orders.database.db
      .selectFrom('orders')
      .select('items')
      .where('status', '!=', 'CANCELLED')
      .execute();
    const problems: string[] = [];
    for (const { sku, available: initial } of SEED_ITEMS) {
      const held = live.flatMap((o) => o.items).reduce((n, l) => n + (l.sku === sku ? l.quantity : 0), 0);
      const now = await available(sku);
      if (now + held !== initial)
        problems.push(`${sku}: ${initial} at the start, now ${now} available + ${held} held by live orders`);
    }
    return problems;
  };
  return {
    stack,
    inventory,
    get orders() {
      return orders;
    },
    ordersVars,
    async startOrders() {
      orders = await startOrders();
    },
    available,
    async stockProblems() {
      let problems = await stockProblemsNow();
      for (const deadline = Date.now() + 30_000; problems.length > 0 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        problems = await stockProblemsNow();
      }
      return problems;
    },
    async stop() {
      await orders.svc.stop();
      await inventory.svc.stop().catch(() => undefined);
      await stack.stop();
    },
  };
}
