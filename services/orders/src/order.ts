/** The order as the API shows it, and its repository. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { OrderLine, OrdersTables, OrderStatus } from './schema.js';

export interface Order {
  readonly id: string;
  readonly status: OrderStatus;
  readonly customerId: string;
  readonly items: readonly OrderLine[];
  readonly totalCents: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Why the order was cancelled (absent otherwise). */
  readonly reason?: string;
}

/** An `orders` row as stored. */
export type OrderRow = Selectable<OrdersTables['orders']>;
/** Where a query runs: the database, or a transaction on it. */
export type Executor = Kysely<OrdersTables> | Transaction<OrdersTables>;

export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    status: row.status,
    customerId: row.customer_id,
    items: row.items,
    totalCents: row.total_cents,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    ...(row.status_reason ? { reason: row.status_reason } : {}),
  };
}

export async function findOrder(db: Executor, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}
