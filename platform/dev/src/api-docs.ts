/**
 * The gateway's API documentation: the system's public OpenAPI document at `/openapi.json`, composed on each
 * request from the running services' own `/openapi.json` exactly as `make openapi` composes
 * `docs/api/public.json` (only the operations under each service's front-door prefixes), and a page to read
 * it at `/docs/`: Swagger UI, served from the `swagger-ui-dist` package in node_modules (nothing is fetched
 * from the internet, and "Try it out" sends requests through this gateway).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  OPENAPI_PATH,
  publicOpenApiDocument,
  type OpenApiDocument,
  type PublicPart,
} from '@flotilla/runtime';
import { sendProblem } from './problem.js';

/** Where the page is. */
export const DOCS_PATH = '/docs/';

/** The Swagger UI files the page loads, by the name it asks for. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** One service behind the gateway, and where to read its document now. */
export interface DocumentedService {
  readonly service: string;
  readonly prefixes: readonly string[];
  /** The port of a ready process of the service, or undefined when none is. */
  readonly port: () => number | undefined;
}

/** Options of {@link apiDocs}. */
export interface ApiDocsOptions {
  /** `info.title` of the public document, e.g. `shop public API` (see `publicDocumentTitle`). */
  readonly title: string;
  readonly services: readonly DocumentedService[];
  /** How long to wait for a service's document. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * A request handler for `/openapi.json` and `/docs/...`; answers and returns true for those paths, returns
 * false for any other (the gateway routes it).
 */
export function apiDocs(options: ApiDocsOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const page = docsPage(options.title);
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path !== OPENAPI_PATH && path !== '/docs' && !path.startsWith(DOCS_PATH)) return false;
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendProblem(res, {
        title: 'Method Not Allowed',
        status: 405,
        detail: `${path} takes GET.`,
        instance: path,
      });
      return true;
    }
    if (path === OPENAPI_PATH) {
      void publicDocument(options).then(
        (doc) => send(res, 200, 'application/json', JSON.stringify(doc)),
        (err: Error) =>
          sendProblem(res, { title: 'Bad Gateway', status: 502, detail: err.message, instance: path }),
      );
      return true;
    }
    if (path === '/docs' || path === DOCS_PATH) {
      if (path === '/docs') {
        res.writeHead(308, { location: DOCS_PATH }).end();
        return true;
      }
      send(res, 200, 'text/html; charset=utf-8', page);
      return true;
    }
    const name = path.slice(DOCS_PATH.length);
    const type = ASSETS[name];
    if (type === undefined) {
      sendProblem(res, {
        title: 'Not Found',
        status: 404,
        detail: `No ${path}; the API documentation is at ${DOCS_PATH}.`,
        instance: path,
      });
      return true;
    }
    void readFile(join(dist, name)).then(
      (bytes) => send(res, 200, type, bytes, 'public, max-age=3600'),
      (err: Error) =>
        sendProblem(res, {
          title: 'Not Found',
          status: 404,
          detail: `swagger-ui-dist has no ${name} (${err.message}); run npm ci.`,
          instance: path,
        }),
    );
    return true;
  };
}

/**
 * The public document of the services now running: each one's `/openapi.json` (from a ready process), kept
 * to its front-door prefixes. A service whose document cannot be read is left out and named in
 * `info.description`.
 */
export async function publicDocument(options: ApiDocsOptions): Promise<OpenApiDocument> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const missing: string[] = [];
  const parts: PublicPart[] = [];
  await Promise.all(
    options.services.map(async (s) => {
      const port = s.port();
      if (port === undefined) return void missing.push(`${s.service} (no ready process)`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}${OPENAPI_PATH}`, {
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.status === 404) return void (await res.arrayBuffer()); // serves no declared API
        if (!res.ok) throw new Error(`${OPENAPI_PATH} answered ${res.status}`);
        parts.push({
          service: s.service,
          prefixes: s.prefixes,
          document: (await res.json()) as OpenApiDocument,
        });
      } catch (err) {
        missing.push(`${s.service} (${err instanceof Error ? err.message : String(err)})`);
      }
    }),
  );
  const doc = publicOpenApiDocument(parts, { title: options.title });
  if (missing.length === 0) return doc;
  return {
    ...doc,
    info: {
      ...doc.info,
      description: `${doc.info.description ?? ''} Not included, their documents could not be read: ${missing.sort().join(', ')}.`,
    },
  };
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  cacheControl = 'no-cache',
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': cacheControl,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** The page: Swagger UI on the public document, with its online validator off (no request leaves the machine). */
function docsPage(title: string): string {
  const escaped = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escaped}</title>
    <link rel="stylesheet" href="${DOCS_PATH}swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATH}swagger-ui-bundle.js"></script>
    <script>
      window.ui = SwaggerUIBundle({
        url: ${JSON.stringify(OPENAPI_PATH)},
        dom_id: '#swagger-ui',
        deepLinking: true,
        validatorUrl: null,
        tryItOutEnabled: true,
      });
    </script>
  </body>
</html>
`;
}
