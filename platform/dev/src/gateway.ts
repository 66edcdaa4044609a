/**
 * The local front door: routes public path prefixes to services exactly like the cluster ingress does
 * (each service's `routes` from the model, longest prefix first, Kubernetes `Prefix` path semantics),
 * streaming bodies both ways. Like a Service in front of pods, it spreads each service's requests across
 * the service's processes whose readiness passes (see `upstreams.ts`), so a process can be replaced while
 * requests run.
 */
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { portOf, type RuntimeEnvironment, type System } from '@flotilla/model';
import { matchesPathPrefix } from '@flotilla/runtime';
import { apiDocs } from './api-docs.js';
import { sendProblem } from './problem.js';
import { UpstreamPool, type UpstreamState } from './upstreams.js';

/** One public path prefix and where it goes. */
export interface GatewayRoute {
  /** Path prefix, e.g. `/api/orders`. */
  readonly prefix: string;
  readonly service: string;
  /** Port on 127.0.0.1 of the service's first process (more are added with {@link Gateway.addUpstream}). */
  readonly port: number;
}

/** The routes of a system in an environment (the gateway tries the longest prefix first). */
export function gatewayRoutes(system: System, env: RuntimeEnvironment): GatewayRoute[] {
  return system.services.flatMap((s) =>
    s.routes.map((prefix) => ({
      prefix: normalizePrefix(prefix),
      service: s.name,
      port: portOf(system, s.name, env),
    })),
  );
}

/** A trailing slash does not change a Kubernetes `Prefix` match: `/api/` and `/api` are the same. */
function normalizePrefix(prefix: string): string {
  return prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
}

/**
 * Kubernetes `Prefix` match: element-wise on `/`-separated path segments, so `/api/orders` matches
 * `/api/orders`, `/api/orders/` and `/api/orders/42`, but not `/api/ordersx` (the public OpenAPI document
 * keeps operations by the same rule).
 * @see https://kubernetes.io/docs/concepts/services-networking/ingress/#path-types
 */
export const matchesPrefix: (path: string, prefix: string) => boolean = matchesPathPrefix;

export interface GatewayOptions {
  readonly routes: readonly GatewayRoute[];
  /** @default 8080 */
  readonly port?: number;
  /** Seconds without upstream activity before answering 504. @default 60 (the ALB's idle timeout) */
  readonly upstreamTimeoutSeconds?: number;
  /**
   * How often each process's readiness (`GET /readyz`) is probed; a process gets requests while it passes,
   * and none after two failures in a row (or at once when it refuses connections or is shutting down).
   * @default 1000
   */
  readonly readinessIntervalMs?: number;
  /**
   * Serve the public OpenAPI document at `/openapi.json` (composed from the services' own, see `api-docs.ts`)
   * and a page to read it at `/docs/`, with this document title; paths a service route claims stay the
   * service's. @default - not served
   */
  readonly docs?: { readonly title: string };
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  /**
   * Adds a process of `service` listening on `port` of 127.0.0.1: the service's requests are spread
   * across its processes whose readiness passes. Its first probe starts at once.
   */
  addUpstream(service: string, port: number): void;
  /**
   * Takes a process out of rotation at once, as the endpoint of a terminating pod is: no new request goes
   * to it; requests already sent to it finish.
   */
  removeUpstream(service: string, port: number): void;
  /** Probes the readiness of the processes of `service` (of every service without it) now. */
  probe(service?: string): Promise<void>;
  /** The processes of a service and their readiness, as the gateway sees them. */
  upstreams(service: string): readonly UpstreamState[];
  stop(): Promise<void>;
}

/** Hop-by-hop headers are for one connection and never forwarded. @see https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !listed.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

/** Starts the gateway on 127.0.0.1. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  // Longest prefix first, as the ingress orders them.
  const routes = [...options.routes].sort(
    (a, b) => b.prefix.length - a.prefix.length || a.prefix.localeCompare(b.prefix),
  );
  const agent = new Agent({ keepAlive: true });
  const timeoutMs = (options.upstreamTimeoutSeconds ?? 60) * 1000;
  const pools = new Map<string, UpstreamPool>();
  const poolOf = (service: string): UpstreamPool => {
    let pool = pools.get(service);
    if (!pool) {
      pool = new UpstreamPool({
        service,
        ...(options.readinessIntervalMs !== undefined
          ? { probeIntervalMs: options.readinessIntervalMs }
          : {}),
      });
      pools.set(service, pool);
    }
    return pool;
  };
  for (const route of routes) poolOf(route.service).add(route.port);

  const docs =
    options.docs &&
    apiDocs({
      title: options.docs.title,
      services: [...new Set(routes.map((r) => r.service))].map((service) => ({
        service,
        prefixes: routes.filter((r) => r.service === service).map((r) => r.prefix),
        port: () => poolOf(service).pick()?.port,
      })),
    });
  const server = createServer((req, res) =>
    proxy(req, res, { routes, pools: poolOf, agent, timeoutMs, docs }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Gateway: port ${options.port ?? 8080} on 127.0.0.1 is in use. Stop what uses it or set GATEWAY_PORT=<port>.`,
            )
          : err,
      ),
    );
    server.listen(options.port ?? 8080, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    addUpstream: (service, upstreamPort) => poolOf(service).add(upstreamPort),
    removeUpstream: (service, upstreamPort) => pools.get(service)?.remove(upstreamPort),
    probe: async (service) => {
      const which = service === undefined ? [...pools.values()] : [pools.get(service)];
      await Promise.all(which.map((pool) => pool?.probe()));
    },
    upstreams: (service) => pools.get(service)?.states() ?? [],
    stop: async () => {
      for (const pool of pools.values()) pool.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}

interface ProxyContext {
  readonly routes: readonly GatewayRoute[];
  readonly pools: (service: string) => UpstreamPool;
  readonly agent: Agent;
  readonly timeoutMs: number;
  /** Answers the documentation paths; false for any other. */
  readonly docs: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
}

function proxy(req: IncomingMessage, res: ServerResponse, context: ProxyContext): void {
  const { routes, agent, timeoutMs } = context;
  const url = req.url ?? '/';
  const path = url.split('?')[0] ?? '/';
  const route = routes.find((r) => matchesPrefix(path, r.prefix));
  const requestId =
    typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : randomUUID();
  if (!route) {
    if (context.docs?.(req, res)) return;
    req.resume();
    sendProblem(
      res,
      {
        title: 'Not Found',
        status: 404,
        detail: `No service routes ${path}. Public path prefixes: ${routes.map((r) => r.prefix).join(', ') || '(none)'}.`,
        instance: path,
      },
      { 'x-request-id': requestId },
    );
    return;
  }

  const pool = context.pools(route.service);
  const target = pool.pick();
  if (!target) {
    req.resume();
    const why = pool
      .states()
      .map((u) => `port ${u.port}: ${u.lastError ?? u.readiness}`)
      .join('; ');
    sendProblem(
      res,
      {
        title: 'Service Unavailable',
        status: 503,
        detail:
          `No process of service ${route.service} is ready (${why || 'none running'}); it may be starting, ` +
          'restarting or failing its readiness check: see its log lines.',
        instance: path,
      },
      { 'x-request-id': requestId, 'retry-after': '1' },
    );
    return;
  }

  const headers = endToEnd(req.headers);
  const client = req.socket.remoteAddress ?? '127.0.0.1';
  const forwardedFor = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${client}` : client;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  // Like ingress-nginx: every request gets an id, so logs across services can be joined on it.
  headers['x-request-id'] = requestId;

  const upstream = httpRequest({
    host: '127.0.0.1',
    port: target.port,
    method: req.method,
    path: url,
    headers,
    agent,
  });
  upstream.setTimeout(timeoutMs, () =>
    upstream.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })),
  );
  upstream.on('response', (up) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEnd(up.headers));
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    req.resume();
    const problemHeaders = { 'x-request-id': requestId };
    if (err.code === 'ECONNREFUSED') {
      pool.down(target.port, 'connection refused');
      sendProblem(
        res,
        {
          title: 'Service Unavailable',
          status: 503,
          detail: `Service ${route.service} (port ${target.port}) is not running; it may be restarting, see its log lines.`,
          instance: path,
        },
        { ...problemHeaders, 'retry-after': '1' },
      );
    } else if (err.code === 'ETIMEDOUT') {
      sendProblem(
        res,
        {
          title: 'Gateway Timeout',
          status: 504,
          detail: `Service ${route.service} did not answer within ${timeoutMs / 1000} s.`,
          instance: path,
        },
        problemHeaders,
      );
    } else {
      sendProblem(
        res,
        {
          title: 'Bad Gateway',
          status: 502,
          detail: `Service ${route.service} failed to answer (${err.code ?? err.message}).`,
          instance: path,
        },
        problemHeaders,
      );
    }
  });
  // A client that goes away cancels the upstream request too.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
