/**
 * The two routes every HTTP contender serves, so the benchmark compares the frameworks, not the handlers:
 * `GET /api/items/:id` answers a small JSON item; `POST /api/items` validates a JSON body (zod where the
 * stack's users validate with zod, the equivalent JSON schema for Fastify) and answers 201 with the item.
 */
import { z } from 'zod';

export const ITEM_ROUTE = '/api/items/:id';
export const ITEMS_ROUTE = '/api/items';

export function itemBody(id: string): { id: string; name: string; price: number; tags: string[] } {
  return { id, name: `item ${id}`, price: 42, tags: ['bench'] };
}

/** The body of `POST /api/items`, as a service declares it (see `validate` in @flotilla/runtime). */
export const NewItem = z.object({
  name: z.string().min(1).max(100),
  price: z.number().int().nonnegative(),
  tags: z.array(z.string().min(1).max(30)).max(10),
});
export type NewItem = z.infer<typeof NewItem>;

/** {@link NewItem} as JSON Schema, for Fastify's own validator (Ajv): the same rules. */
export const newItemJsonSchema = {
  type: 'object',
  required: ['name', 'price', 'tags'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    price: { type: 'integer', minimum: 0 },
    tags: { type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 30 } },
  },
} as const;

/** What every contender answers to a valid POST: the item with its new id. */
export function createdItem(body: NewItem): NewItem & { id: string } {
  return { id: '7', ...body };
}

/** The body the load generator posts. */
export const SAMPLE_NEW_ITEM: NewItem = { name: 'bench widget', price: 42, tags: ['bench', 'load'] };

/** A 400 answer for an invalid body, as problem+json (RFC 9457), from a zod error. */
export function invalidBodyProblem(error: z.ZodError): {
  type: string;
  title: string;
  status: number;
  errors: { path: string; message: string }[];
} {
  return {
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    errors: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  };
}

/** What a server child reports over IPC once it listens. */
export interface ListeningMessage {
  readonly type: 'listening';
  readonly port: number;
}
