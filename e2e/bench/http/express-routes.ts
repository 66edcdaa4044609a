/**
 * The two routes on a plain Express app, for bare Express and the Express peers: the POST body parsed by
 * express.json and validated with zod, 400 problem+json when invalid. ETag and X-Powered-By are off, as in
 * the kit, so every Express contender sends the same response.
 */
import express, { type Express } from 'express';
import { createdItem, invalidBodyProblem, ITEM_ROUTE, itemBody, ITEMS_ROUTE, NewItem } from './item.js';

export function itemRoutes(app: Express): void {
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get(ITEM_ROUTE, (req, res) => {
    res.json(itemBody(String(req.params.id)));
  });
  app.post(ITEMS_ROUTE, express.json({ limit: '100kb' }), (req, res) => {
    const parsed = NewItem.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).type('application/problem+json').json(invalidBodyProblem(parsed.error));
      return;
    }
    res.status(201).json(createdItem(parsed.data));
  });
}
