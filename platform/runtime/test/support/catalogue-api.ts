/** A small declared API for the contract tests: every part a route can declare. */
import { z } from 'zod';
import { defineApi, problem } from '../../src/index.js';

export const Item = z.object({ sku: z.string(), name: z.string(), stock: z.number().int().min(0) });
export const Hold = z.object({ holdId: z.string(), sku: z.string(), quantity: z.number().int() });

export const catalogueApi = defineApi({
  service: 'catalogue',
  description: 'A catalogue of items and holds on their stock',
  version: '2.1.0',
  routes: {
    getItem: {
      method: 'GET',
      path: '/items/:sku',
      summary: 'One item',
      params: z.object({ sku: z.string().min(1).max(16).describe('The stock-keeping unit') }),
      responses: { 200: Item, 404: problem('No item with this SKU') },
    },
    listItems: {
      method: 'GET',
      path: '/items',
      summary: 'Items, a page at a time',
      tags: ['browse'],
      query: z.object({ limit: z.coerce.number().int().min(1).max(50).optional() }),
      responses: { 200: z.object({ items: z.array(Item) }) },
    },
    placeHold: {
      method: 'POST',
      path: '/holds',
      summary: 'Hold stock of an item',
      headers: z.object({
        'idempotency-key': z
          .string()
          .regex(/^[\x21-\x7e]{1,64}$/)
          .optional(),
      }),
      body: z.object({ sku: z.string().min(1), quantity: z.number().int().min(1) }),
      responses: {
        201: {
          description: 'The hold was placed',
          body: Hold,
          headers: z.object({ location: z.string() }),
          links: {
            releaseHold: { operationId: 'releaseHold', parameters: { holdId: '$response.body#/holdId' } },
          },
        },
        409: problem('Not enough stock', z.object({ available: z.number().int() })),
      },
    },
    releaseHold: {
      method: 'DELETE',
      path: '/holds/:holdId',
      summary: 'Release a hold',
      params: z.object({ holdId: z.string() }),
      responses: { 204: 'Released (or there was nothing to release)' },
    },
  },
});
