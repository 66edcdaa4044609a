/**
 * The gateway's API documentation (issue 15): the public OpenAPI document composed from the running services'
 * own documents, kept to their front-door prefixes and valid OpenAPI 3.1, and a page to read it whose files
 * come from node_modules (no request leaves the machine).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { z } from 'zod';
import {
  createService,
  defineApi,
  openApiDocument,
  publicOpenApiDocument,
  type Service,
} from '@flotilla/runtime';
import { startGateway, type Gateway } from '../src/index.js';
import { quiet } from '../src/testing.js';

const api = defineApi({
  service: 'catalogue',
  routes: {
    getItem: {
      method: 'GET',
      path: '/api/items/:sku',
      summary: 'One item',
      params: z.object({ sku: z.string().min(1) }),
      responses: { 200: z.object({ sku: z.string() }) },
    },
    reserve: {
      method: 'POST',
      path: '/internal/reservations',
      summary: 'Internal only',
      body: z.object({ sku: z.string() }),
      responses: { 201: z.object({ sku: z.string() }) },
    },
  },
});

let svc: Service;
let port: number;
let gateway: Gateway;

beforeAll(async () => {
  svc = createService({
    name: 'catalogue',
    env: { SERVICE_NAME: 'catalogue', PORT: '0', FLOTILLA_ENVIRONMENT: 'test', OTEL_SDK_DISABLED: 'true' },
    manageProcess: false,
    logDestination: quiet,
  });
  svc.serve(api, {
    getItem: ({ params }) => ({ status: 200, body: { sku: params.sku } }),
    reserve: ({ body }) => ({ status: 201, body }),
  });
  svc.router.get('/docs/claimed', (_req, res) => void res.json({ mine: true }));
  ({ port } = await svc.start());
  gateway = await startGateway({
    port: 0,
    readinessIntervalMs: 100,
    routes: [
      { prefix: '/api/items', service: 'catalogue', port },
      { prefix: '/docs/claimed', service: 'catalogue', port },
    ],
    docs: { title: 'test public API' },
  });
  await gateway.probe();
});
afterAll(async () => {
  await gateway?.stop();
  await svc?.stop();
});

describe('the gateway’s API documentation', () => {
  it('serves the public document: the services’ own, kept to their front-door prefixes, valid OpenAPI 3.1', async () => {
    const res = await fetch(`${gateway.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as ReturnType<typeof openApiDocument>;
    expect(Object.keys(doc.paths)).toEqual(['/api/items/{sku}']);
    expect(doc).toEqual(
      JSON.parse(
        JSON.stringify(
          publicOpenApiDocument(
            [
              {
                service: 'catalogue',
                prefixes: ['/api/items', '/docs/claimed'],
                document: openApiDocument(api),
              },
            ],
            { title: 'test public API' },
          ),
        ),
      ),
    );
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
  });

  it('serves a page that loads Swagger UI from this gateway only', async () => {
    const res = await fetch(`${gateway.url}/docs/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<title>test public API</title>');
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls).toEqual(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js']);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('validatorUrl: null');
    for (const url of urls) {
      const asset = await fetch(`${gateway.url}${url}`);
      expect(asset.status).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    }
    const redirect = await fetch(`${gateway.url}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/docs/');
    expect((await fetch(`${gateway.url}/docs/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/docs/package.json`)).status).toBe(404);
  });

  it('leaves a path a service route claims to the service', async () => {
    const res = await fetch(`${gateway.url}/docs/claimed`);
    expect(await res.json()).toEqual({ mine: true });
  });
});
