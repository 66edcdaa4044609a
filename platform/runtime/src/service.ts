import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, Router } from 'express';
import { ENV } from '@flotilla/model';
import type { DestinationStream, Logger } from 'pino';
import { ConfigError } from './config/errors.js';
import { loadConfig, type Config, type ConfigShape, type Env } from './config/load.js';
import { HealthRegistry } from './health/health.js';
import { createHttpApp } from './http/app.js';
import { createHttpServer } from './http/server.js';
import { mergeApis, type Api } from './http/contract.js';
import { OPENAPI_PATH, openApiDocument } from './http/openapi.js';
import { serveApi, type HandlersOf } from './http/serve.js';
import { InFlightRequests } from './lifecycle/in-flight.js';
import { ServiceLifecycle } from './lifecycle/lifecycle.js';
import { gracefulShutdown, handleSignals, ShutdownError, type ShutdownResult } from './lifecycle/shutdown.js';
import { errorMessage } from './kit.js';
import { flushAndExit } from './log/flush.js';
import { createLogger } from './log/logger.js';
import { processTelemetry } from './telemetry/global.js';
import type { Telemetry } from './telemetry/sdk.js';

/** Exit code after a configuration error (sysexits EX_CONFIG), so it stands out from crashes in pod status. */
export const EXIT_CONFIG = 78;

/** What a service declares to {@link createService}. */
export interface ServiceSpec<S extends ConfigShape = Record<never, never>> {
  /**
   * The service's name. When given, SERVICE_NAME must equal it (catches a process started with another
   * service's environment). @default - SERVICE_NAME
   */
  readonly name?: string;
  /** zod schemas of the service's own variables, keyed by variable name. @default - base variables only */
  readonly config?: S;
  /** Where variables are read from. @default process.env */
  readonly env?: Env;
  /** Largest JSON request body; larger ones get 413. @default '100kb' */
  readonly bodyLimit?: number | string;
  /** Timeout of each readiness check in `/readyz`. @default 2000 */
  readonly readinessCheckTimeoutMs?: number;
  /**
   * Whether the service owns the process: it exits on configuration errors (code 78), handles SIGTERM and
   * SIGINT with the graceful shutdown and exits, and exits on uncaught errors. Turn off to run services
   * inside another program (tests), which then calls `stop()`. @default true
   */
  readonly manageProcess?: boolean;
  /** Where log lines go. @default - stdout */
  readonly logDestination?: DestinationStream;
  /**
   * Check each response of a declared route (`serve`) against its declaration; a mismatch is logged and
   * answered with 500. Wins over `FLOTILLA_CHECK_RESPONSES`.
   * @default - `FLOTILLA_CHECK_RESPONSES`, else true except on `FLOTILLA_PLATFORM=eks`
   */
  readonly checkResponses?: boolean;
}

/** Where a started service listens. */
export interface Listening {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/** A service built by {@link createService}. */
export interface Service<S extends ConfigShape = Record<never, never>> {
  readonly config: Config<S>;
  readonly log: Logger;
  /** The Express app (health, logging, body parsing, 404 and problem handling already mounted). */
  readonly app: Express;
  /** Put routes here: plain Express routes, beside the declared ones of `serve`. */
  readonly router: Router;
  /**
   * Serves a declared API (`defineApi`): each route validated, its handler's reply written as declared (and
   * checked, see `checkResponses`), and the API published in the service's OpenAPI document at
   * `/openapi.json`. Throws when `api` is another service's.
   */
  serve<A extends Api>(api: A, handlers: HandlersOf<A>): void;
  /** Add readiness checks (database reachable, consumers running). */
  readonly health: HealthRegistry;
  /** Add stop hooks (run in reverse order on shutdown) and start hooks (run before listening). */
  readonly lifecycle: ServiceLifecycle;
  /** The OpenTelemetry SDK, unless disabled by OTEL_SDK_DISABLED. */
  readonly telemetry: Telemetry | undefined;
  /** The variables the service was built from (`spec.env`, else `process.env`); the `use*` wiring reads them. */
  readonly env: Env;
  /** Runs start hooks, listens on PORT and marks startup done. */
  start(): Promise<Listening>;
  /** The graceful shutdown without exiting; rejects with ShutdownError when it was incomplete. */
  stop(): Promise<void>;
}

/**
 * Builds a service: validated config, logger, telemetry, an Express app with health endpoints and problem
 * responses, and the graceful shutdown.
 *
 * @example
 * const svc = createService({ name: 'orders', config: { PAYMENTS_TIMEOUT_MS: z.coerce.number() } });
 * svc.router.get('/orders/:id', async (req, res) => { ... });
 * await svc.start();
 */
export function createService<S extends ConfigShape = Record<never, never>>(
  spec: ServiceSpec<S> = {},
): Service<S> {
  const manageProcess = spec.manageProcess ?? true;
  const env = spec.env ?? process.env;
  const config = loadOrExit(spec, env, manageProcess);
  const log = createLogger({
    name: config.service.name,
    level: config.logLevel,
    base: { version: config.service.version, environment: config.service.environment },
    destination: spec.logDestination,
  });
  const telemetry = processTelemetry(config);
  const lifecycle = new ServiceLifecycle();
  // Registered first so it runs last: spans of the other hooks' work are still exported.
  if (telemetry !== undefined) lifecycle.onStop('telemetry', () => telemetry.shutdown());
  const health = new HealthRegistry({ checkTimeoutMs: spec.readinessCheckTimeoutMs });
  const inFlight = new InFlightRequests();
  const { app, router, served } = createHttpApp({
    log,
    bodyLimit: spec.bodyLimit,
    unobserved: [health.handler()],
    inFlight,
  });

  let server: Server | undefined;
  let shutdown: Promise<ShutdownResult> | undefined;
  let removeSignalHandlers: (() => void) | undefined;
  const shutdownOnce = () =>
    (shutdown ??= gracefulShutdown({
      log,
      health,
      lifecycle,
      inFlight,
      server,
      drainMs: config.shutdown.drainMs,
      timeoutMs: config.shutdown.timeoutMs,
    }));

  const checkResponses = spec.checkResponses ?? config.http.checkResponses;
  const serve = <A extends Api>(api: A, handlers: HandlersOf<A>): void => {
    if (api.service !== config.service.name)
      throw new Error(
        `Service "${config.service.name}" cannot serve the API of service "${api.service}"; serve its own API.`,
      );
    if (served.apis.length === 0) {
      // Built on first request and kept: the declaration does not change while the process runs.
      let document: string | undefined;
      router.get(OPENAPI_PATH, (_req, res) => {
        document ??= JSON.stringify(openApiDocument(mergeApis(served.apis)));
        res.type('application/json').send(document);
      });
    }
    serveApi(router, api, handlers, { checkResponses });
  };

  return {
    config,
    log,
    app,
    router,
    serve,
    health,
    lifecycle,
    telemetry,
    env,
    async start() {
      if (server !== undefined)
        throw new Error(`Service "${config.service.name}" is already started; call start() once.`);
      // Signals are handled from here on, so a SIGTERM during slow start hooks (migrations) still runs
      // the stop hooks instead of killing the process mid-way.
      if (manageProcess && removeSignalHandlers === undefined) {
        removeSignalHandlers = handleSignals(log, shutdownOnce);
        exitOnUncaught(log);
      }
      try {
        await lifecycle.runStartHooks();
        if (shutdown !== undefined) {
          throw new Error(
            `Service "${config.service.name}" began shutting down before it started listening.`,
          );
        }
        server = createHttpServer(app);
        // Longer than a load balancer's idle timeout (ALB: 60 s), so the balancer, not us, closes idle
        // connections; otherwise a request can race our close and get a 502.
        // @see https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout
        server.keepAliveTimeout = 65_000;
        server.headersTimeout = 66_000;
        const port = await listen(server, config.port);
        health.markStarted();
        const listening = { port, url: `http://127.0.0.1:${port}` };
        log.info(listening, `${config.service.name} listening on port ${port}`);
        return listening;
      } catch (err) {
        if (!manageProcess) throw err;
        // A signal-driven shutdown is already under way and exits the process when it is done.
        if (shutdown !== undefined) return new Promise<never>(() => undefined);
        log.fatal({ err }, `${config.service.name} failed to start: ${errorMessage(err)}`);
        return flushAndExit(log, 1);
      }
    },
    async stop() {
      const result = await shutdownOnce();
      removeSignalHandlers?.();
      if (!result.ok) throw new ShutdownError(result);
    },
  };
}

function loadOrExit<S extends ConfigShape>(
  spec: ServiceSpec<S>,
  env: Env,
  manageProcess: boolean,
): Config<S> {
  try {
    const config = loadConfig(spec.config, env);
    if (spec.name !== undefined && spec.name !== config.service.name) {
      throw new ConfigError([
        {
          variable: ENV.serviceName,
          message: `is "${config.service.name}" but this is service "${spec.name}"; the process got another service's environment`,
        },
      ]);
    }
    return config;
  } catch (err) {
    if (!manageProcess || !(err instanceof ConfigError)) throw err;
    // The process exits on the next line and this line is the one the operator needs: the default
    // destination writes what it holds on process.exit.
    const log = createLogger({
      name: spec.name ?? env[ENV.serviceName] ?? 'unknown',
      destination: spec.logDestination,
    });
    log.fatal({ issues: err.issues }, err.message);
    process.exit(EXIT_CONFIG);
  }
}

/** A crash is logged as one JSON line (with the error) before the process exits 1. */
function exitOnUncaught(log: Logger): void {
  const crash = (kind: string) => (err: unknown) => {
    log.fatal({ err }, `${kind}: ${errorMessage(err)}; exiting`);
    void flushAndExit(log, 1);
  };
  process.once('uncaughtException', crash('uncaught exception'));
  process.once('unhandledRejection', crash('unhandled promise rejection'));
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Port ${port} is already in use; set PORT to a free port or stop the other process.`, {
              cause: err,
            })
          : err,
      );
    };
    server.once('error', onError);
    server.listen(port, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
