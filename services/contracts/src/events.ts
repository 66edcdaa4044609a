import { z } from 'zod';

/**
 * NUL, or a UTF-16 surrogate without its pair: what PostgreSQL's `text` cannot hold (no NUL; a lone surrogate
 * has no UTF-8 encoding). Without the `u` flag the pattern sees UTF-16 code units, so the lone halves show.
 * The kit refuses the same in every request (`refuseUnstorableText`); this package stays a leaf that does not
 * import the runtime, and events are checked here as well.
 * @see https://www.postgresql.org/docs/current/datatype-character.html
 */
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Text every service can store: every string field of the contracts is one. */
const text = () =>
  z.string().refine((s) => !UNSTORABLE.test(s), {
    message:
      'contains a NUL character (U+0000) or a UTF-16 surrogate without its pair, which no text field can hold; remove it',
  });

/** Money in the smallest currency unit (cents): a non-negative integer, never a float. */
const cents = z.number().int().nonnegative();
/** A catalogue stock-keeping unit, e.g. `SKU-CHEAP`. */
const sku = text().min(1).max(64);
/** An order, customer or payment id. */
const id = text().min(1).max(128);
/** Lines of one order: at least one and at most this many. */
const MAX_LINES = 50;
/** Units in one line of an order a client sends. */
const quantity = z.number().int().min(1).max(100);
/**
 * Units of one SKU in a placed order. Inventory merges an order's lines per SKU (two lines of 60 are one of
 * 120), and the events carry the order's merged lines, so one SKU may hold every line's maximum.
 */
const skuQuantity = z
  .number()
  .int()
  .min(1)
  .max(MAX_LINES * 100);
/** The lines of one order, each a `line`: at least one and at most 50. */
const linesOf = <L extends z.ZodType>(line: L) => z.array(line).min(1).max(MAX_LINES);
/**
 * The lines of one order without prices, with `skuSchema` for their SKUs (an API may trim what clients send
 * before the SKU's own bounds apply).
 */
function orderLinesOf<S extends z.ZodType<string>>(skuSchema: S) {
  return linesOf(z.object({ sku: skuSchema, quantity }));
}
const orderLines = orderLinesOf(sku);
/** Why an order ended unpaid: orders copies `payment.failed`'s reason into `order.cancelled`, so one bound. */
const reason = text().min(1).max(500);

/**
 * The shop's field schemas, for the HTTP APIs that take the same values the events carry: one set of
 * bounds, so an order the API accepts always fits its events (and inventory accepts what orders sends).
 * `text()` is the base of every string field: a new string field starts from it.
 */
export const fields = { text, sku, id, orderLines, orderLinesOf } as const;

/** `order.placed`: an order was stored with its stock reserved; payments charges it. */
export const OrderPlaced = z.object({
  orderId: id,
  customerId: id,
  items: linesOf(z.object({ sku, quantity: skuQuantity, priceCents: cents })),
  totalCents: cents,
});
export type OrderPlaced = z.infer<typeof OrderPlaced>;

/** `order.paid`: the payment for an order completed; the order is `PAID`. */
export const OrderPaid = z.object({ orderId: id, paymentId: id, totalCents: cents });
export type OrderPaid = z.infer<typeof OrderPaid>;

/** `order.cancelled`: the order ended without payment; inventory releases the listed stock. */
export const OrderCancelled = z.object({
  orderId: id,
  reason,
  items: linesOf(z.object({ sku, quantity: skuQuantity })),
});
export type OrderCancelled = z.infer<typeof OrderCancelled>;

/** `payment.completed`: the order was charged (exactly once). */
export const PaymentCompleted = z.object({ orderId: id, paymentId: id, amountCents: cents });
export type PaymentCompleted = z.infer<typeof PaymentCompleted>;

/** `payment.failed`: the charge was declined; the order is cancelled. */
export const PaymentFailed = z.object({
  orderId: id,
  reason,
  amountCents: cents,
});
export type PaymentFailed = z.infer<typeof PaymentFailed>;

/** Events on the `orders` topic, keyed by event type. */
export const orderEvents = {
  'order.placed': OrderPlaced,
  'order.paid': OrderPaid,
  'order.cancelled': OrderCancelled,
} as const;

/** Events on the `payments` topic, keyed by event type. */
export const paymentEvents = {
  'payment.completed': PaymentCompleted,
  'payment.failed': PaymentFailed,
} as const;

/** Every shop event, keyed by event type. */
export const shopEvents = { ...orderEvents, ...paymentEvents } as const;

/** Schema maps by topic name (the topic names of `services/system.ts`). */
export const topicEvents = { orders: orderEvents, payments: paymentEvents } as const;

export type OrderEventType = keyof typeof orderEvents;
export type PaymentEventType = keyof typeof paymentEvents;
export type ShopEventType = keyof typeof shopEvents;

/** The payload type of a shop event type, e.g. `ShopEventData<'order.paid'>`. */
export type ShopEventData<K extends ShopEventType> = z.infer<(typeof shopEvents)[K]>;
