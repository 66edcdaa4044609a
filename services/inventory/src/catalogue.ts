import type { Item } from './stock.js';

/**
 * The items a new inventory database starts with. SKU-LUXURY costs more than payments accepts
 * (50,000 cents), so its orders are declined and cancelled.
 */
export const SEED_ITEMS: readonly Item[] = [
  { sku: 'SKU-CHEAP', name: 'Cheap widget', priceCents: 500, available: 1_000_000 },
  { sku: 'SKU-LUXURY', name: 'Luxury widget', priceCents: 75_000, available: 1_000_000 },
  { sku: 'SKU-RARE', name: 'Rare widget', priceCents: 1_000, available: 5 },
];
