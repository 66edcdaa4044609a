/**
 * Type-level tests of declared routes (issue 15): `tsc -b` (make build, make test) compiles this file, and
 * each `@ts-expect-error` line fails the build unless its call is a type error. So a call to a route the API
 * does not declare, or with a body, parameter or header it does not take, fails to compile, and so does a
 * handler that replies with an undeclared status or body.
 */
import { describe, expect, it } from '@jest/globals';
import type { ApiClient, ApiHandlers } from '../src/index.js';
import { catalogueApi } from './support/catalogue-api.js';

type Catalogue = ApiClient<typeof catalogueApi.routes>;

/** Never run: compiled only. */
export async function clientCalls(catalogue: Catalogue): Promise<void> {
  const item = await catalogue.getItem({ params: { sku: 'A' } });
  if (item.status === 200) {
    const stock: number = item.body.stock;
    void stock;
  } else {
    const status: 404 = item.status;
    void status;
  }
  await catalogue.listItems();
  await catalogue.placeHold({ body: { sku: 'A', quantity: 1 } }, { idempotencyKey: 'k' });

  // @ts-expect-error the API declares no route "deleteItem"
  await catalogue.deleteItem({ params: { sku: 'A' } });
  // @ts-expect-error the body has no "quantity"
  await catalogue.placeHold({ body: { sku: 'A' } });
  // @ts-expect-error "quantity" is a number
  await catalogue.placeHold({ body: { sku: 'A', quantity: '1' } });
  // @ts-expect-error getItem needs its path parameter
  await catalogue.getItem();
  // @ts-expect-error the path parameter is "sku", not "id"
  await catalogue.getItem({ params: { id: 'A' } });
  // @ts-expect-error getItem takes no body
  await catalogue.getItem({ params: { sku: 'A' }, body: { sku: 'A' } });
  // @ts-expect-error "limit" is a number
  await catalogue.listItems({ query: { limit: 'ten' } });
  const hold = await catalogue.placeHold({ body: { sku: 'A', quantity: 1 } });
  // @ts-expect-error 200 is not a status placeHold declares
  if (hold.status === 200) return;
  if (hold.status === 409) {
    const available: number = hold.body.available;
    void available;
  }
}

/** Never run: compiled only. */
export const handlers: Pick<
  ApiHandlers<typeof catalogueApi.routes>,
  'getItem' | 'releaseHold' | 'placeHold'
> = {
  getItem: ({ params }) => ({ status: 200, body: { sku: params.sku, name: 'n', stock: 1 } }),
  // @ts-expect-error releaseHold declares 204 (no body), not 200
  releaseHold: () => ({ status: 200 }),
  // @ts-expect-error 201 must set its declared "location" header
  placeHold: ({ body }) => ({ status: 201, body: { holdId: 'h', sku: body.sku, quantity: body.quantity } }),
};

describe('declared route types', () => {
  it('are checked by tsc -b (this file compiles only with every @ts-expect-error above an error)', () => {
    expect(typeof clientCalls).toBe('function');
  });
});
