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
  /** Latency percentiles, ms. */
  readonly p50: number;
  readonly p99: number;
  /** Responses that were not 2xx, connection errors and timeouts: any of them makes the run invalid. */
  readonly failures: number;
}

/** The part of autocannon's result this benchmark reads (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  overallRate?: number;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}) => Promise<AutocannonResult>;

/** The parent's request for one run. */
export interface LoadRequest {
  readonly type: 'load';
  readonly spec: LoadSpec;
}

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

async function run(spec: LoadSpec): Promise<LoadResult> {
  const r = await autocannon({
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
  return {
    type: 'load-result',
    rps: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failures: r.non2xx + r.errors + r.timeouts,
  };
}

let queue = Promise.resolve();
process.on('message', (m: unknown) => {
  if (!isMessage<LoadRequest>('load')(m)) return;
  queue = queue.then(async () => tellParent(await run(m.spec)));
});
process.once('disconnect', () => void queue.then(() => process.exit(0)));
