/**
 * The orders API, declared once: served by orders (`routes.ts`), public under /api/orders, published in the
 * OpenAPI documents.
 */
import { defineApi, problem } from '@flotilla/runtime';
import { fields } from '@shop/contracts';
import { z } from 'zod';

/**
 * Characters JavaScript's `trim()` removes (WhiteSpace and LineTerminator), as a class: `\s` is not the same
 * set in every regex dialect (Python's has U+001C-U+001F, ECMAScript's has U+FEFF).
 * @see https://tc39.es/ecma262/#sec-string.prototype.trim
 */
const TRIMMED = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

/**
 * A text field from which surrounding spaces a client sent are dropped before the contract's bounds apply. Its
 * document says what the bounds come to: at least one character that is not a space, and at most the bound.
 */
function trimmed(schema: z.ZodString) {
  return z
    .string()
    .trim()
    .pipe(schema)
    .meta({
      pattern: `[^${TRIMMED}]`,
      ...(schema.minLength === null ? {} : { minLength: schema.minLength }),
      ...(schema.maxLength === null ? {} : { maxLength: schema.maxLength }),
      description: 'Surrounding spaces are dropped.',
    });
}

/** An order line as the order holds it, at the price it was reserved at. */
const OrderLine = z.object({
  sku: fields.sku,
  quantity: z.number().int().min(1),
  priceCents: z.number().int().min(0),
});

/** An order as the API shows it. */
export const Order = z.object({
  id: fields.id,
  status: z.enum(['PENDING', 'PAID', 'CANCELLED']),
  customerId: fields.id,
  items: z.array(OrderLine),
  totalCents: z.number().int().min(0),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  reason: fields.text().optional().describe('Why the order was cancelled (CANCELLED only)'),
});

/** Printable ASCII, as the Idempotency-Key draft allows for its string value. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** `Retry-After` of an answer a client should retry (seconds). */
const RetryAfter = z.object({ 'retry-after': z.string().describe('Seconds to wait before retrying') });

export const api = defineApi({
  service: 'orders',
  description:
    'The public ordering API: an order reserves its stock in inventory at once, then follows the payment ' +
    'outcome (PENDING, then PAID or CANCELLED).',
  routes: {
    placeOrder: {
      method: 'POST',
      path: '/api/orders',
      summary: 'Place an order (idempotent with an Idempotency-Key)',
      description:
        'Reserves the stock of every line in inventory, then stores the order as PENDING. With an ' +
        'Idempotency-Key, a repeat of the request gets the same order again (with `Idempotent-Replayed: true`).',
      tags: ['orders'],
      headers: z.object({
        'idempotency-key': z
          .string()
          .regex(IDEMPOTENCY_KEY, {
            error: 'expected 1-255 printable ASCII characters without spaces, e.g. a UUID',
          })
          .optional()
          .describe('Makes the request safe to retry: every request with the key acts on one order'),
      }),
      body: z.object({
        customerId: trimmed(fields.id),
        items: fields.orderLinesOf(trimmed(fields.sku)),
      }),
      responses: {
        201: {
          description: 'The order was placed (or, with `Idempotent-Replayed`, placed before with this key)',
          body: Order,
          headers: z.object({
            location: z.string().describe('The order’s URL'),
            'idempotent-replayed': z
              .literal('true')
              .optional()
              .describe('Set when the key named an order placed before'),
          }),
          links: { getOrder: { operationId: 'getOrder', parameters: { id: '$response.body#/id' } } },
        },
        409: problem(
          'Not enough stock (`urn:shop:problem:insufficient-stock`), or the first request with this ' +
            'Idempotency-Key is still being placed (`urn:shop:problem:idempotency-key-in-progress`, with Retry-After)',
        ),
        422: problem(
          'A SKU is not in the catalogue (`urn:shop:problem:unknown-sku`), or the Idempotency-Key was used ' +
            'with another body (`urn:shop:problem:idempotency-key-reused`)',
        ),
        503: {
          ...problem(
            'Inventory is unavailable (`urn:shop:problem:inventory-unavailable`) or placing the order took too ' +
              'long (`urn:shop:problem:order-timed-out`): nothing was placed; retry after Retry-After with the ' +
              'same Idempotency-Key',
          ),
          headers: RetryAfter,
        },
      },
    },
    getOrder: {
      method: 'GET',
      path: '/api/orders/:id',
      summary: 'An order and its status',
      tags: ['orders'],
      params: z.object({ id: fields.id.describe('The order id') }),
      responses: { 200: Order, 404: problem('No order with this id') },
    },
  },
});
