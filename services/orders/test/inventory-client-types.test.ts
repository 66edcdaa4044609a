/**
 * Orders' calls to inventory are typed from inventory's own declaration (`@shop/inventory/api`), with no
 * generated file: `tsc -b` compiles this file, and each `@ts-expect-error` line fails the build unless its
 * call is a type error. A route inventory does not declare, or a body it does not take, does not compile.
 */
import { describe, expect, it } from '@jest/globals';
import type { InventoryClient } from '../src/inventory-client.js';

/** Never run: compiled only. */
export async function calls(inventory: InventoryClient): Promise<void> {
  const reserved = await inventory.reserve(
    { body: { reservationId: 'r-1', orderId: 'o-1', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] } },
    { idempotencyKey: 'r-1' },
  );
  if (reserved.status === 201 || reserved.status === 200) {
    const total: number = reserved.body.totalCents;
    void total;
  }
  await inventory.release({ params: { reservationId: 'r-1' } });
  await inventory.getItem({ params: { sku: 'SKU-CHEAP' } });

  // @ts-expect-error inventory declares no route "cancel"
  await inventory.cancel({ params: { reservationId: 'r-1' } });
  // @ts-expect-error a reservation needs its reservationId (inventory's body schema requires it)
  await inventory.reserve({ body: { orderId: 'o-1', items: [{ sku: 'SKU-CHEAP', quantity: 1 }] } });
  const line = { sku: 'SKU-CHEAP', quantity: '1' };
  // @ts-expect-error quantity is a number
  await inventory.reserve({ body: { reservationId: 'r', orderId: 'o', items: [line] } });
  // @ts-expect-error the release path parameter is reservationId, not orderId
  await inventory.release({ params: { orderId: 'o-1' } });
  // @ts-expect-error release takes no body
  await inventory.release({ params: { reservationId: 'r-1' }, body: { reason: 'x' } });
  // @ts-expect-error 404 is not an answer reserve declares
  if (reserved.status === 404) return;
}

describe('orders -> inventory calls', () => {
  it('are type-checked against inventory’s declaration by tsc -b', () => {
    expect(typeof calls).toBe('function');
  });
});
