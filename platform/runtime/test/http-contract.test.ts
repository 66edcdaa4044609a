/**
 * Declared routes (issue 15): one declaration validates the request, shapes and (in development and test)
 * checks the response, answers 405 for the path's other methods, becomes the service's OpenAPI 3.1 document
 * at /openapi.json, and types a peer's calls (with the peer client's resilience underneath).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import { z } from 'zod';
import {
  ApiDeclarationError,
  createService,
  createServiceClients,
  defineApi,
  HttpError,
  openApiDocument,
  PeerClientError,
  PeerInvalidResponseError,
  problem,
  publicOpenApiDocument,
  STORABLE_TEXT_PATTERN,
  type ApiHandlers,
  type Service,
} from '../src/index.js';
import { catalogueApi } from './support/catalogue-api.js';
import { memoryLog } from './support/memory-log.js';

const env = (name: string, extra: Record<string, string> = {}) => ({
  SERVICE_NAME: name,
  PORT: '0',
  FLOTILLA_ENVIRONMENT: 'test',
  OTEL_SDK_DISABLED: 'true',
  ...extra,
});

/** What the handlers do wrong on purpose, by SKU. */
const stock = new Map<string, number>();
const handlers: ApiHandlers<typeof catalogueApi.routes> = {
  getItem: ({ params }) => {
    if (params.sku === 'TEAPOT') throw new HttpError(418, 'I am a teapot');
    if (params.sku === 'NEGATIVE') return { status: 200, body: { sku: 'NEGATIVE', name: 'n', stock: -1 } };
    if (params.sku === 'EXTRA')
      return { status: 200, body: { sku: 'EXTRA', name: 'e', stock: 1, secret: 'x' } as never };
    const available = stock.get(params.sku);
    if (available === undefined) throw new HttpError(404, `No item ${params.sku}.`);
    return { status: 200, body: { sku: params.sku, name: `Item ${params.sku}`, stock: available } };
  },
  listItems: ({ query }) => ({
    status: 200,
    body: {
      items: [...stock]
        .slice(0, query.limit ?? 50)
        .map(([sku, n]) => ({ sku, name: `Item ${sku}`, stock: n })),
    },
  }),
  placeHold: ({ body, headers }) => {
    const available = stock.get(body.sku) ?? 0;
    if (available < body.quantity)
      throw new HttpError(409, `Only ${available} of ${body.sku} left.`, { extensions: { available } });
    stock.set(body.sku, available - body.quantity);
    const holdId = headers['idempotency-key'] ?? `h-${body.sku}-${body.quantity}`;
    return {
      status: 201,
      body: { holdId, sku: body.sku, quantity: body.quantity },
      headers: { location: `/holds/${holdId}` },
    };
  },
  releaseHold: () => ({ status: 204 }),
};

let svc: Service;
let url: string;
const log = memoryLog();

beforeAll(async () => {
  svc = createService({
    name: 'catalogue',
    env: env('catalogue'),
    manageProcess: false,
    logDestination: log,
  });
  svc.serve(catalogueApi, handlers);
  svc.router.get('/plain', (_req, res) => void res.json({ plain: true }));
  ({ url } = await svc.start());
});
afterAll(async () => svc?.stop());
beforeEach(() => {
  stock.clear();
  stock.set('A', 10);
  log.lines.length = 0;
});

const errorLines = () => log.lines.filter((l) => l.level === 'error' || l.level === 'fatal');

describe('a declared route', () => {
  it('validates the request and writes the declared reply (status, headers, media type)', async () => {
    const res = await fetch(`${url}/holds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
      body: JSON.stringify({ sku: 'A', quantity: 3 }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/holds/k-1');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ holdId: 'k-1', sku: 'A', quantity: 3 });

    const bad = await fetch(`${url}/holds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'has space' },
      body: JSON.stringify({ sku: '', quantity: 0 }),
    });
    expect(bad.status).toBe(400);
    const problemBody = (await bad.json()) as { errors: { location: string; path: string }[] };
    expect(problemBody.errors.map((e) => `${e.location}.${e.path}`).sort()).toEqual([
      'body.quantity',
      'body.sku',
      'headers.idempotency-key',
    ]);
    const extra = await fetch(`${url}/holds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'A', quantity: 1, extra: 1 }),
    });
    expect(extra.status).toBe(400);
    expect(await extra.json()).toMatchObject({ errors: [{ location: 'body', path: 'extra' }] });
  });

  it('answers a declared error status as problem+json with its extensions', async () => {
    const res = await fetch(`${url}/holds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'A', quantity: 11 }),
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 409, available: 10 });
    expect(errorLines()).toEqual([]);
  });

  it('answers a body-less response without a body', async () => {
    const res = await fetch(`${url}/holds/h-1`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('answers 405 with Allow for a method its path does not take; other paths stay 404', async () => {
    const res = await fetch(`${url}/items/A`, { method: 'PATCH' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.json()).toMatchObject({ status: 405, type: 'urn:flotilla:problem:method-not-allowed' });
    const holds = await fetch(`${url}/holds`, { method: 'GET' });
    expect(holds.status).toBe(405);
    expect(holds.headers.get('allow')).toBe('POST');
    expect((await fetch(`${url}/nothing-here`, { method: 'PATCH' })).status).toBe(404);
    expect((await fetch(`${url}/plain`)).status).toBe(200);
  });
});

describe('response checks (on in development and test)', () => {
  it('a reply that breaks its schema is a 500, logged with the route and the mismatch', async () => {
    const res = await fetch(`${url}/items/NEGATIVE`);
    expect(res.status).toBe(500);
    const [line] = errorLines();
    expect(errorLines()).toHaveLength(1);
    expect(line).toMatchObject({ route: 'GET /items/:sku', status: 200 });
    expect(String((line!.mismatch as string[])[0])).toMatch(/^body\.stock: /);
  });

  it('a field the declaration does not have is a mismatch too', async () => {
    expect((await fetch(`${url}/items/EXTRA`)).status).toBe(500);
    expect(errorLines()[0]?.mismatch).toEqual(['body.secret: a field the declaration does not have']);
  });

  it('an error status the route does not declare is a 500, logged', async () => {
    expect((await fetch(`${url}/items/TEAPOT`)).status).toBe(500);
    expect(String((errorLines()[0]?.mismatch as string[])[0])).toMatch(/threw HttpError 418/);
  });

  it('are off on EKS unless FLOTILLA_CHECK_RESPONSES=true, and the reply goes out unchecked', async () => {
    const eks = createService({
      name: 'catalogue',
      env: env('catalogue', { FLOTILLA_PLATFORM: 'eks' }),
      manageProcess: false,
      logDestination: memoryLog(),
    });
    expect(eks.config.http.checkResponses).toBe(false);
    eks.serve(catalogueApi, handlers);
    const { url: eksUrl } = await eks.start();
    try {
      const res = await fetch(`${eksUrl}/items/NEGATIVE`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ stock: -1 });
    } finally {
      await eks.stop();
    }
    const asked = createService({
      name: 'catalogue',
      env: env('catalogue', { FLOTILLA_PLATFORM: 'eks', FLOTILLA_CHECK_RESPONSES: 'true' }),
      manageProcess: false,
      logDestination: memoryLog(),
    });
    expect(asked.config.http.checkResponses).toBe(true);
  });
});

describe('the OpenAPI document', () => {
  it('is served at /openapi.json, equals openApiDocument(api) and is valid OpenAPI 3.1', async () => {
    const res = await fetch(`${url}/openapi.json`);
    expect(res.status).toBe(200);
    const served = (await res.json()) as ReturnType<typeof openApiDocument>;
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument(catalogueApi))));
    const result = await new Validator().validate(served as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(served.openapi).toBe('3.1.0');
    expect(served.info).toEqual({
      title: 'catalogue API',
      version: '2.1.0',
      description: 'A catalogue of items and holds on their stock',
    });
  });

  it('describes each part of a route, with the kit’s own responses', () => {
    const doc = openApiDocument(catalogueApi);
    const get = doc.paths['/items/{sku}']!.get!;
    expect(get.operationId).toBe('getItem');
    expect(get.parameters).toEqual([
      {
        name: 'sku',
        in: 'path',
        required: true,
        description: 'The stock-keeping unit',
        // The kit refuses NUL in any request text (400): the document says so, or a fuzzer's valid request fails.
        schema: { type: 'string', minLength: 1, maxLength: 16, pattern: '^[^\\u0000]*$' },
      },
    ]);
    const pattern = new RegExp(STORABLE_TEXT_PATTERN, 'u');
    expect(['a\0b', '\0'].map((t) => pattern.test(t))).toEqual([false, false]);
    expect(['', 'SKU-\u{1F600}é', '\ud83d\ude00'].map((t) => pattern.test(t))).toEqual([true, true, true]);
    expect(Object.keys(get.responses as object)).toEqual(['200', '400', '404', '500']);
    const post = doc.paths['/holds']!.post!;
    expect(Object.keys(post.responses as object)).toEqual(['201', '400', '409', '413', '415', '500']);
    expect(post.parameters).toEqual([
      expect.objectContaining({ name: 'idempotency-key', in: 'header', required: false }),
    ]);
    const body = (post.requestBody as { content: Record<string, { schema: Record<string, unknown> }> })
      .content['application/json']!.schema;
    // validate() refuses undeclared body fields, and the document says so.
    expect(body.additionalProperties).toBe(false);
    const created = (post.responses as Record<string, Record<string, unknown>>)['201']!;
    expect(created.headers).toEqual({ location: { required: true, schema: { type: 'string' } } });
    expect(created.links).toEqual({
      releaseHold: { operationId: 'releaseHold', parameters: { holdId: '$response.body#/holdId' } },
    });
    const conflict = (post.responses as Record<string, { content: Record<string, unknown> }>)['409']!;
    expect(Object.keys(conflict.content)).toEqual(['application/problem+json']);
    expect(doc.components?.schemas?.Problem).toBeDefined();
    expect(doc.components?.schemas?.ValidationProblem).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain('$defs');
  });

  it('the public document keeps only the operations under the front-door prefixes', async () => {
    const doc = publicOpenApiDocument(
      [{ service: 'catalogue', prefixes: ['/items'], document: openApiDocument(catalogueApi) }],
      { title: 'test public API' },
    );
    expect(Object.keys(doc.paths)).toEqual(['/items', '/items/{sku}']);
    expect(Object.keys(doc.paths['/items']!.get!.responses as object)).toEqual([
      '200',
      '400',
      '500',
      '502',
      '503',
      '504',
    ]);
    expect(doc.info.version).toBe('catalogue 2.1.0');
    expect((await new Validator().validate(doc as never)).valid).toBe(true);
  });
});

describe('defineApi', () => {
  it('refuses what it cannot serve, naming every problem at once', () => {
    const declare = () =>
      defineApi({
        service: 'broken',
        routes: {
          one: {
            method: 'GET',
            path: '/things/:id/*rest',
            summary: 'x',
            params: z.object({ id: z.string(), other: z.string() }),
            headers: z.object({ 'X-Upper': z.string() }),
            responses: { 404: problem('none') },
          },
          two: {
            method: 'GET',
            path: '/things/:key',
            summary: 'y',
            responses: {
              200: 'ok',
              201: { description: 'x', links: { l: { operationId: 'nope', parameters: {} } } },
            },
          },
        },
      });
    expect(declare).toThrow(ApiDeclarationError);
    expect(declare).toThrow(/path must start with "\/" and have literal segments/);
    expect(declare).toThrow(/params\.other is not a parameter of the path/);
    expect(declare).toThrow(/header "X-Upper" must be a lower-case header name/);
    expect(declare).toThrow(/declare at least one success response/);
    expect(declare).toThrow(/path parameter ":key" has no field in params/);
    expect(declare).toThrow(/link "l" of response 201 names no route \("nope"\)/);
  });

  it('a service serves only its own API', () => {
    const other = createService({
      name: 'other',
      env: env('other'),
      manageProcess: false,
      logDestination: memoryLog(),
    });
    expect(() => other.serve(catalogueApi, handlers)).toThrow(/cannot serve the API of service "catalogue"/);
  });
});

describe('the typed client of a peer', () => {
  const clients = () =>
    createServiceClients({
      env: { SERVICE_NAME: 'shop', PEER_CATALOGUE_URL: url },
      log: pino({ level: 'silent' }),
      defaults: { retry: { maxRetries: 0 } },
    });

  it('calls each declared route with its parts and resolves with the declared response', async () => {
    const catalogue = clients().client('catalogue', catalogueApi);
    const item = await catalogue.getItem({ params: { sku: 'A' } });
    expect(item.status).toBe(200);
    if (item.status === 200) expect(item.body.stock).toBe(10);
    const hold = await catalogue.placeHold(
      { body: { sku: 'A', quantity: 4 }, headers: { 'idempotency-key': 'k-2' } },
      { timeoutMs: 1000 },
    );
    expect(hold.status).toBe(201);
    expect(hold.headers.get('location')).toBe('/holds/k-2');
    expect((await catalogue.listItems({ query: { limit: 1 } })).body).toEqual({
      items: [{ sku: 'A', name: 'Item A', stock: 6 }],
    });
    expect((await catalogue.releaseHold({ params: { holdId: 'a/b' } })).status).toBe(204);
  });

  it('a declared error status resolves (typed); an undeclared one rejects as before', async () => {
    const catalogue = clients().client('catalogue', catalogueApi);
    const conflict = await catalogue.placeHold({ body: { sku: 'A', quantity: 99 } });
    expect(conflict.status).toBe(409);
    if (conflict.status === 409) expect(conflict.body.available).toBe(10);
    const missing = await catalogue.getItem({ params: { sku: 'ZZZ' } });
    expect(missing).toMatchObject({ status: 404, body: { status: 404 } });
    // 400 is the kit's, not the route's: a call the types allow cannot get it, so it stays an error.
    await expect(catalogue.getItem({ params: { sku: 'x'.repeat(17) } })).rejects.toBeInstanceOf(
      PeerClientError,
    );
  });

  it('a response that breaks the declaration rejects with PeerInvalidResponseError', async () => {
    const lax = createService({
      name: 'catalogue',
      env: env('catalogue'),
      checkResponses: false,
      manageProcess: false,
      logDestination: memoryLog(),
    });
    lax.serve(catalogueApi, handlers);
    const { url: laxUrl } = await lax.start();
    try {
      const catalogue = createServiceClients({
        env: { SERVICE_NAME: 'shop', PEER_CATALOGUE_URL: laxUrl },
        log: pino({ level: 'silent' }),
      }).client('catalogue', catalogueApi);
      await expect(catalogue.getItem({ params: { sku: 'NEGATIVE' } })).rejects.toBeInstanceOf(
        PeerInvalidResponseError,
      );
    } finally {
      await lax.stop();
    }
  });

  it('is refused for another service’s API', () => {
    expect(() =>
      createServiceClients({
        env: { SERVICE_NAME: 'shop', PEER_INVENTORY_URL: url },
        log: pino({ level: 'silent' }),
      }).client('inventory', catalogueApi),
    ).toThrow(/cannot call the API of service 'catalogue'/);
  });
});
