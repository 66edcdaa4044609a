/**
 * The shop's declared HTTP APIs, one per service (each service's `src/api.ts`), and the OpenAPI documents
 * made of them: each service's own, and the public one, holding what the front door exposes (the model's
 * `routes` say which prefixes are public). `make openapi` writes them to docs/api/; the local gateway serves
 * the public one, composed the same way from the running services' `/openapi.json`.
 */
import {
  openApiDocument,
  publicDocumentTitle,
  publicOpenApiDocument,
  type Api,
  type OpenApiDocument,
} from '@flotilla/runtime';
import { api as inventory } from './inventory/src/api.js';
import { api as notifications } from './notifications/src/api.js';
import { api as orders } from './orders/src/api.js';
import { api as payments } from './payments/src/api.js';
import { shop } from './system.js';

/** Each service's declared API, by service name. */
export const apis: Readonly<Record<string, Api>> = { inventory, notifications, orders, payments };

/** The documents of `make openapi`: `docs/api/<service>.json` for each service, and `docs/api/public.json`. */
export function apiDocuments(): { services: Record<string, OpenApiDocument>; public: OpenApiDocument } {
  const services: Record<string, OpenApiDocument> = {};
  for (const service of shop.services) {
    const api = apis[service.name];
    if (api === undefined) continue;
    if (api.service !== service.name)
      throw new Error(
        `services/apis.ts: the API listed for "${service.name}" is service "${api.service}"'s.`,
      );
    services[service.name] = openApiDocument(api);
  }
  const parts = shop.services.flatMap((s) => {
    const document = services[s.name];
    return document === undefined ? [] : [{ service: s.name, prefixes: s.routes, document }];
  });
  return { services, public: publicOpenApiDocument(parts, { title: publicDocumentTitle(shop.name) }) };
}
