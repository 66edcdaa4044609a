/**
 * The load generator, in its own process so it never competes with a server's event loop. It stays up for
 * a whole suite (no start-up per run): the parent sends `{ type: 'load', spec }` over IPC, and it answers
 * each with one {@link LoadResult}, one run at a time; it exits when the parent disconnects. Without a rate
 * it sends as fast as the server answers (closed loop, `connections` requests in flight); with one, at that
 * rate overall (autocannon's `overallRate`). See ./generator.ts for the parent's side.
 */
import { createRequire } from 'node:module';
import { isMessage, tellParent } from '../lib/child.js';

/** One load run. */
export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  /** Requests per second overall; absent: as fast as the server answers. */
  readonly rate?: number;
  /** @default 'GET' */
  readonly method?: 'GET' | 'POST';
  /** A JSON body, sent with `content-type: application/json`. */
  readonly json?: unknown;
}

/** What one load run measured. */
export interface LoadResult {
  readonly type: 'load-result';
  /** Mean requests per second over the run. */
  readonly rps: number;
  /** Requests completed in the run. */
  readonly total: number;
  /**
   * Latency percentiles of the 2xx responses, ms, to the microsecond: from every response's own time, not
   * autocannon's histogram, which records whole milliseconds (a 0.4 ms and a 0.9 ms p99 would both read 0).
   */
  readonly p50: number;
  readonly p99: number;
  /** Responses that were not 2xx, connection errors and timeouts: any of them makes the run invalid. */
  readonly failures: number;
}

/** The part of autocannon's result this benchmark reads (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
/** A run: a promise of its result that also emits `response` (client, status, bytes, time in ms) per response. */
type AutocannonRun = PromiseLike<AutocannonResult> & {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  overallRate?: number;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}) => AutocannonRun;

/** The parent's request for one run. */
export interface LoadRequest {
  readonly type: 'load';
  readonly spec: LoadSpec;
}

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

async function run(spec: LoadSpec): Promise<LoadResult> {
  const times = new ResponseTimes();
  const running = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    pipelining: 1,
    ...(spec.rate === undefined ? {} : { overallRate: spec.rate }),
    ...(spec.json === undefined
      ? { method: spec.method ?? 'GET' }
      : {
          method: spec.method ?? 'POST',
          body: JSON.stringify(spec.json),
          headers: { 'content-type': 'application/json' },
        }),
  });
  running.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) times.add(ms);
  });
  const r = await running;
  return {
    type: 'load-result',
    rps: r.requests.average,
    total: r.requests.total,
    p50: times.percentile(50),
    p99: times.percentile(99),
    failures: r.non2xx + r.errors + r.timeouts,
  };
}

/** Every response time of a run (a saturated run is ~150k of them: 1.2 MB), for exact percentiles. */
class ResponseTimes {
  private values = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  /** The nearest-rank percentile, ms rounded to the microsecond; 0 without responses. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const sorted = this.values.subarray(0, this.count).sort();
    const rank = Math.min(this.count - 1, Math.ceil((p / 100) * this.count) - 1);
    return Math.round((sorted[Math.max(0, rank)] as number) * 1000) / 1000;
  }
}

let queue = Promise.resolve();
process.on('message', (m: unknown) => {
  if (!isMessage<LoadRequest>('load')(m)) return;
  queue = queue.then(async () => tellParent(await run(m.spec)));
});
process.once('disconnect', () => void queue.then(() => process.exit(0)));
