import { HEALTH_PATHS } from '@flotilla/model';
import type { Request, RequestHandler, Response } from 'express';
import { errorMessage, type Health, type ReadinessCheck, type ReadinessCheckOptions } from '../kit.js';

/** Result of one readiness check in the `/readyz` report. */
export interface CheckResult {
  readonly status: 'ok' | 'fail';
  readonly durationMs: number;
  /** Why it failed (the check's error message, or the timeout). */
  readonly error?: string;
  /** `false` for a check that reports only: its failure does not fail readiness. Absent otherwise. */
  readonly affectsReadiness?: false;
}

/** The `/readyz` report. */
export interface ReadinessReport {
  readonly status: 'ok' | 'fail' | 'starting' | 'shutting-down';
  readonly checks: Readonly<Record<string, CheckResult>>;
  /** Names of the failing checks that fail readiness; present when `status` is not `ok`. */
  readonly failing?: readonly string[];
  /** Names of the failing checks that only report (see `affectsReadiness`); present when there are any. */
  readonly degraded?: readonly string[];
}

/** Options of {@link HealthRegistry}. */
export interface HealthOptions {
  /** Each readiness check fails when it takes longer than this. @default 2000 */
  readonly checkTimeoutMs?: number;
}

/**
 * Liveness, readiness and startup state of a service, and the handlers serving them on
 * `/livez`, `/readyz` and `/startupz` (the paths of HEALTH_PATHS in @flotilla/model).
 * @see https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
 */
export class HealthRegistry implements Health {
  readonly #checks = new Map<string, { check: ReadinessCheck; affectsReadiness: boolean }>();
  readonly #timeoutMs: number;
  #started = false;
  #shuttingDown = false;

  constructor(options: HealthOptions = {}) {
    this.#timeoutMs = options.checkTimeoutMs ?? 2000;
  }

  addReadinessCheck(name: string, check: ReadinessCheck, options: ReadinessCheckOptions = {}): void {
    if (this.#checks.has(name)) {
      throw new Error(`Readiness check "${name}" is already registered; give each check a unique name.`);
    }
    this.#checks.set(name, { check, affectsReadiness: options.affectsReadiness ?? true });
  }

  /** Start finished: `/startupz` answers 200 and `/readyz` starts running checks. */
  markStarted(): void {
    this.#started = true;
  }

  /** Shutdown began: `/readyz` answers 503 from now on. */
  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  get started(): boolean {
    return this.#started;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Runs every check concurrently, each bounded by the per-check timeout. */
  async readiness(): Promise<ReadinessReport> {
    if (this.#shuttingDown) return { status: 'shutting-down', checks: {}, failing: [] };
    if (!this.#started) return { status: 'starting', checks: {}, failing: [] };
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, { check, affectsReadiness }]) => {
        const result = await this.#run(check);
        return [name, affectsReadiness ? result : { ...result, affectsReadiness: false as const }] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    const failed = entries.filter(([, r]) => r.status === 'fail');
    const failing = failed.filter(([, r]) => r.affectsReadiness !== false).map(([name]) => name);
    const degraded = failed.filter(([, r]) => r.affectsReadiness === false).map(([name]) => name);
    const extra = degraded.length > 0 ? { degraded } : {};
    // Shutdown may have begun while checks ran; never report ready after it did.
    if (this.#shuttingDown) return { status: 'shutting-down', checks, failing, ...extra };
    return failing.length === 0
      ? { status: 'ok', checks, ...extra }
      : { status: 'fail', checks, failing, ...extra };
  }

  async #run(check: ReadinessCheck): Promise<CheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(check), timeout]);
      return { status: 'ok', durationMs: elapsed(started) };
    } catch (err) {
      return {
        status: 'fail',
        durationMs: elapsed(started),
        error: errorMessage(err),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Serves the three health paths; other paths pass through. */
  handler(): RequestHandler {
    return (req: Request, res: Response, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      switch (req.path) {
        case HEALTH_PATHS.live:
          res.status(200).json({ status: 'ok' });
          return;
        case HEALTH_PATHS.startup:
          res.status(this.#started ? 200 : 503).json({ status: this.#started ? 'ok' : 'starting' });
          return;
        case HEALTH_PATHS.ready:
          this.readiness().then(
            (report) => {
              res.status(report.status === 'ok' ? 200 : 503).json(report);
            },
            (err: unknown) => next(err),
          );
          return;
        default:
          next();
      }
    };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
