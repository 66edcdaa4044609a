/**
 * The shop's books, read from the services' own databases after a scenario: every order, charge,
 * notification, the stock and the events still waiting in an outbox. `ledgerProblems` holds them against
 * what the customer was told, so that nothing lost or done twice goes unseen, not even an order the
 * customer never heard of.
 */
import pg from 'pg';

/** Where a service's database is: an embedded PGlite directory (the service stopped), or a server URL. */
export type DatabaseLocation = { readonly dir: string } | { readonly url: string };

export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface Ledger {
  readonly orders: readonly { id: string; status: string; items: readonly OrderLine[] }[];
  readonly payments: readonly { orderId: string; status: string }[];
  readonly notifications: readonly { orderId: string; outcome: string }[];
  /** Available units per SKU. */
  readonly stock: Readonly<Record<string, number>>;
  /** Outbox rows not published yet, per service. */
  readonly unsent: Readonly<Record<string, number>>;
}

type Rows = Record<string, unknown>[];
type Query = (sql: string) => Promise<Rows>;

async function withDatabase<T>(location: DatabaseLocation, use: (query: Query) => Promise<T>): Promise<T> {
  if ('url' in location) {
    const client = new pg.Client({ connectionString: location.url });
    await client.connect();
    try {
      return await use(async (sql) => (await client.query(sql)).rows as Rows);
    } finally {
      await client.end();
    }
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create({ dataDir: location.dir });
  try {
    return await use(async (sql) => (await db.query<Record<string, unknown>>(sql)).rows);
  } finally {
    await db.close();
  }
}

async function unsentRows(query: Query): Promise<number> {
  const [table] = await query(`select to_regclass('flotilla_outbox') is not null as present`);
  if (!table?.present) return 0;
  const [row] = await query('select count(*)::int as n from flotilla_outbox where sent_at is null');
  return Number(row?.n ?? 0);
}

/** Reads the books of the shop's four services. */
export async function readLedger(databases: Readonly<Record<string, DatabaseLocation>>): Promise<Ledger> {
  const at = (service: string): DatabaseLocation => {
    const location = databases[service];
    if (!location) throw new Error(`no database of ${service} to read the ledger from`);
    return location;
  };
  const unsent: Record<string, number> = {};
  const orders = await withDatabase(at('orders'), async (query) => {
    unsent.orders = await unsentRows(query);
    return (await query('select id, status, items from orders order by id')).map((r) => ({
      id: String(r.id),
      status: String(r.status),
      items: (typeof r.items === 'string' ? JSON.parse(r.items) : r.items) as OrderLine[],
    }));
  });
  const payments = await withDatabase(at('payments'), async (query) => {
    unsent.payments = await unsentRows(query);
    return (await query('select order_id, status from payments')).map((r) => ({
      orderId: String(r.order_id),
      status: String(r.status),
    }));
  });
  const notifications = await withDatabase(at('notifications'), async (query) => {
    unsent.notifications = await unsentRows(query);
    return (await query('select order_id, outcome from notifications')).map((r) => ({
      orderId: String(r.order_id),
      outcome: String(r.outcome),
    }));
  });
  const stock = await withDatabase(at('inventory'), async (query) => {
    unsent.inventory = await unsentRows(query);
    const rows = await query('select sku, available from items');
    return Object.fromEntries(rows.map((r) => [String(r.sku), Number(r.available)]));
  });
  return { orders, payments, notifications, stock, unsent };
}

/** What the customer knows: the orders the shop accepted (201), and the stock before the scenario. */
export interface CustomerView {
  readonly accepted: ReadonlyMap<string, readonly OrderLine[]>;
  readonly initialStock: Readonly<Record<string, number>>;
}

const count = <T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
};

/**
 * Everything wrong with the books, one sentence each (none: nothing lost, nothing done twice):
 * - the orders stored are exactly the ones the customer was told were accepted;
 * - every order has one final status, one charge that agrees with it (COMPLETED for PAID, DECLINED for
 *   CANCELLED) and one notification of that status; no charge or notification belongs to no order;
 * - the stock invariant: per SKU, the initial stock = what is available + what live (not cancelled) orders hold;
 * - no event is still waiting in an outbox.
 */
export function ledgerProblems(ledger: Ledger, customer: CustomerView): string[] {
  const problems: string[] = [];
  const stored = new Map(ledger.orders.map((o) => [o.id, o]));
  for (const id of customer.accepted.keys())
    if (!stored.has(id)) problems.push(`order ${id} was accepted (201) but is not stored: lost`);
  for (const order of ledger.orders) {
    if (!customer.accepted.has(order.id))
      problems.push(
        `order ${order.id} (${order.status}) is stored but the customer was never told it was placed`,
      );
  }
  const charges = count(ledger.payments, (p) => p.orderId);
  const notes = count(ledger.notifications, (n) => n.orderId);
  for (const order of ledger.orders) {
    if (order.status !== 'PAID' && order.status !== 'CANCELLED') {
      problems.push(`order ${order.id} is ${order.status}: it never reached a final status`);
      continue;
    }
    const charged = charges.get(order.id) ?? [];
    const expected = order.status === 'PAID' ? 'COMPLETED' : 'DECLINED';
    if (charged.length !== 1 || charged[0]!.status !== expected)
      problems.push(
        `order ${order.id} is ${order.status} with ${charged.length} charge(s) [${charged.map((c) => c.status).join(', ')}]; expected one ${expected}`,
      );
    const notified = notes.get(order.id) ?? [];
    if (notified.length !== 1 || notified[0]!.outcome !== order.status)
      problems.push(
        `order ${order.id} is ${order.status} with ${notified.length} notification(s) [${notified.map((n) => n.outcome).join(', ')}]; expected one ${order.status}`,
      );
  }
  for (const id of charges.keys())
    if (!stored.has(id)) problems.push(`a charge for order ${id}, which does not exist`);
  for (const id of notes.keys())
    if (!stored.has(id)) problems.push(`a notification for order ${id}, which does not exist`);

  const held: Record<string, number> = {};
  for (const order of ledger.orders) {
    if (order.status === 'CANCELLED') continue;
    for (const line of order.items) held[line.sku] = (held[line.sku] ?? 0) + line.quantity;
  }
  for (const [sku, available] of Object.entries(ledger.stock)) {
    const initial = customer.initialStock[sku];
    if (initial === undefined) {
      problems.push(`SKU ${sku} is in the catalogue but was not before the scenario`);
      continue;
    }
    const live = held[sku] ?? 0;
    if (initial !== available + live)
      problems.push(
        `stock of ${sku}: ${initial} at the start, now ${available} available + ${live} held by live orders = ` +
          `${available + live} (${initial > available + live ? `${initial - available - live} leaked` : `${available + live - initial} too many`})`,
      );
  }
  for (const [service, n] of Object.entries(ledger.unsent))
    if (n > 0) problems.push(`${service} still has ${n} event(s) in its outbox, not published`);
  return problems;
}
