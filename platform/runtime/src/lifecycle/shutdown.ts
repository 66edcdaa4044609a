import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { flushAndExit } from '../log/flush.js';
import type { HealthRegistry } from '../health/health.js';
import type { InFlightRequests } from './in-flight.js';
import type { HookFailure, ServiceLifecycle } from './lifecycle.js';

/** What the graceful shutdown works on. */
export interface ShutdownParts {
  readonly log: Logger;
  readonly health: HealthRegistry;
  readonly lifecycle: ServiceLifecycle;
  readonly inFlight: InFlightRequests;
  /** The listening server, if start() got that far. */
  readonly server: Server | undefined;
  /** Keep serving this long after readiness fails. */
  readonly drainMs: number;
  /** Deadline for the whole shutdown, drain included. */
  readonly timeoutMs: number;
}

/** Outcome of a shutdown. */
export interface ShutdownResult {
  /** True when everything stopped, in time and without errors. */
  readonly ok: boolean;
  /** Requests still running at the deadline. */
  readonly unfinishedRequests: readonly string[];
  /** Stop hooks that failed, did not finish or never ran. */
  readonly hooks: readonly HookFailure[];
  readonly durationMs: number;
}

/** Thrown by `svc.stop()` when the shutdown missed its deadline or a stop hook failed. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError';
  constructor(readonly result: ShutdownResult) {
    super(describeFailure(result));
  }
}

/**
 * The graceful shutdown, in order: readiness fails; wait the drain delay (load balancers and endpoint
 * controllers stop sending); stop accepting connections; let in-flight requests finish while idle
 * keep-alive connections close (busy ones get `Connection: close`); run stop hooks in reverse order.
 * Bounded by `timeoutMs`: at the deadline it resolves with `ok: false` naming what did not finish.
 * @see https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
 */
export async function gracefulShutdown(parts: ShutdownParts): Promise<ShutdownResult> {
  const { log, health, lifecycle, inFlight, server } = parts;
  const started = performance.now();
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    deadlineTimer = setTimeout(() => resolve('deadline'), parts.timeoutMs);
  });
  let hookErrors = false;

  const steps = async (): Promise<'done'> => {
    health.markShuttingDown();
    log.info(
      { drain_ms: parts.drainMs, timeout_ms: parts.timeoutMs, in_flight: inFlight.size },
      'shutdown: readiness failing, draining',
    );
    if (parts.drainMs > 0) await sleep(parts.drainMs);
    inFlight.markClosing();
    const closed = server === undefined ? Promise.resolve() : closeServer(server);
    await inFlight.idle();
    server?.closeIdleConnections();
    await closed;
    log.info({ stop_hooks: lifecycle.stopOrder }, 'shutdown: server closed, running stop hooks');
    await lifecycle.runStopHooks((name, err) => {
      hookErrors = true;
      log.error({ err, hook: name }, `shutdown: stop hook "${name}" failed`);
    });
    return 'done';
  };

  const outcome = await Promise.race([steps(), deadline]);
  clearTimeout(deadlineTimer);
  const result: ShutdownResult = {
    ok: outcome === 'done' && !hookErrors,
    unfinishedRequests: outcome === 'deadline' ? inFlight.describe() : [],
    hooks: lifecycle.failures(),
    durationMs: Math.round(performance.now() - started),
  };
  if (outcome === 'deadline') server?.closeAllConnections();
  if (result.ok) log.info({ duration_ms: result.durationMs }, 'shutdown: complete');
  else {
    log.error(
      {
        duration_ms: result.durationMs,
        timeout_ms: parts.timeoutMs,
        unfinished_requests: result.unfinishedRequests,
        unfinished_hooks: result.hooks.map((h) => `${h.name} (${h.state})`),
      },
      describeFailure(result),
    );
  }
  return result;
}

function describeFailure(result: ShutdownResult): string {
  const parts: string[] = [];
  if (result.unfinishedRequests.length > 0)
    parts.push(`requests still running: ${result.unfinishedRequests.join(', ')}`);
  const hooks = result.hooks.map(
    (h) =>
      `"${h.name}" ${h.state === 'unfinished' ? 'did not finish' : h.state === 'failed' ? 'failed' : 'never ran'}`,
  );
  if (hooks.length > 0) parts.push(`stop hooks: ${hooks.join(', ')}`);
  return `shutdown: incomplete after ${result.durationMs} ms; ${parts.join('; ') || 'server connections did not close'}. Raise SHUTDOWN_TIMEOUT_MS or make these finish sooner.`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/**
 * Installs SIGTERM/SIGINT handlers: the first signal runs `shutdown` and exits 0 when it succeeded,
 * 1 when not; a second signal exits 1 at once. Returns a function removing the handlers.
 */
export function handleSignals(
  log: Logger,
  shutdown: () => Promise<ShutdownResult>,
  exit: (code: number) => never = (code) => process.exit(code),
): () => void {
  const quit = (code: number) => void flushAndExit(log, code, exit);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, `shutdown: second ${signal}, exiting now without finishing`);
      quit(1);
      return;
    }
    stopping = true;
    log.info({ signal }, `shutdown: ${signal} received`);
    shutdown().then(
      (result) => quit(result.ok ? 0 : 1),
      (err: unknown) => {
        log.fatal({ err }, 'shutdown: failed');
        quit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
