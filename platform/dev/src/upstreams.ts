/**
 * The processes behind each service, as the gateway sees them: like the endpoints of a Kubernetes Service,
 * a process gets requests while its readiness probe passes, and requests are spread round-robin across the
 * ready ones. Probed the way the charts' readiness probe does it (`GET /readyz`, unready after two failures
 * in a row), only more often, because local processes come and go in seconds.
 * @see https://kubernetes.io/docs/concepts/services-networking/service/#endpoints
 */
import { HEALTH_PATHS } from '@flotilla/model';

/** Whether a process may get requests. `unknown`: not probed yet (it gets requests if no process is ready). */
export type UpstreamReadiness = 'unknown' | 'ready' | 'unready';

/** One process of a service, on a port of 127.0.0.1. */
export interface UpstreamState {
  readonly port: number;
  readonly readiness: UpstreamReadiness;
  /** Why the last probe failed, while it fails. */
  readonly lastError?: string;
}

export interface UpstreamPoolOptions {
  readonly service: string;
  /** @default 1000 */
  readonly probeIntervalMs?: number;
  /** How long a probe may take; `/readyz` bounds each of its checks at 2 s. @default 3000 */
  readonly probeTimeoutMs?: number;
}

/** Failed probes in a row after which a process gets no more requests (the charts' failureThreshold). */
const FAILURE_THRESHOLD = 2;

class Upstream implements UpstreamState {
  readiness: UpstreamReadiness = 'unknown';
  lastError: string | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private removed = false;

  constructor(
    readonly port: number,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  start(): void {
    void this.probe();
  }

  /** Probes now (or joins the probe in flight), then again after the interval. */
  probe(): Promise<void> {
    if (this.removed) return Promise.resolve();
    clearTimeout(this.timer);
    this.probing ??= this.once().finally(() => {
      this.probing = undefined;
      if (!this.removed) this.timer = setTimeout(() => void this.probe(), this.intervalMs).unref();
    });
    return this.probing;
  }

  /** A definite sign that the process does not serve (refused connection): no more requests until it passes. */
  down(reason: string): void {
    this.readiness = 'unready';
    this.lastError = reason;
    this.failures = FAILURE_THRESHOLD;
  }

  remove(): void {
    this.removed = true;
    clearTimeout(this.timer);
  }

  private async once(): Promise<void> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}${HEALTH_PATHS.ready}`, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = await res.text();
      if (res.ok) {
        this.readiness = 'ready';
        this.failures = 0;
        this.lastError = undefined;
        return;
      }
      // A process that is shutting down never gets ready again: out at once, as a terminating pod is.
      const shuttingDown = body.includes('"shutting-down"');
      this.fail(`readiness answered ${res.status}${shuttingDown ? ' (shutting down)' : ''}`, shuttingDown);
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      this.fail(code ?? (err as Error).message, code === 'ECONNREFUSED');
    }
  }

  private fail(reason: string, definite: boolean): void {
    this.failures = definite ? FAILURE_THRESHOLD : this.failures + 1;
    this.lastError = reason;
    if (this.failures >= FAILURE_THRESHOLD) this.readiness = 'unready';
  }
}

/** The processes of one service. */
export class UpstreamPool {
  private readonly upstreams: Upstream[] = [];
  private turn = 0;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(readonly options: UpstreamPoolOptions) {
    this.intervalMs = options.probeIntervalMs ?? 1000;
    this.timeoutMs = options.probeTimeoutMs ?? 3000;
  }

  add(port: number): void {
    if (this.upstreams.some((u) => u.port === port)) return;
    const upstream = new Upstream(port, this.intervalMs, this.timeoutMs);
    this.upstreams.push(upstream);
    upstream.start();
  }

  /** Takes a process out at once; requests already sent to it are not affected. */
  remove(port: number): void {
    const i = this.upstreams.findIndex((u) => u.port === port);
    if (i >= 0) this.upstreams.splice(i, 1)[0]!.remove();
  }

  /**
   * The process for the next request: the ready ones in turn; when none is ready, those not probed yet
   * (a process just added); else none.
   */
  pick(): UpstreamState | undefined {
    const ready = this.upstreams.filter((u) => u.readiness === 'ready');
    const candidates = ready.length > 0 ? ready : this.upstreams.filter((u) => u.readiness === 'unknown');
    if (candidates.length === 0) return undefined;
    return candidates[this.turn++ % candidates.length];
  }

  /** See {@link Upstream.down}. */
  down(port: number, reason: string): void {
    this.upstreams.find((u) => u.port === port)?.down(reason);
  }

  /** Probes every process now. */
  async probe(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => u.probe()));
  }

  states(): UpstreamState[] {
    return this.upstreams.map(({ port, readiness, lastError }) => ({
      port,
      readiness,
      ...(lastError !== undefined ? { lastError } : {}),
    }));
  }

  stop(): void {
    for (const u of this.upstreams) u.remove();
  }
}
