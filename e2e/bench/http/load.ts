/**
 * The load generator, in its own process so it never competes with a server's event loop:
 * `load.ts <url> <connections> <seconds> [requests per second]`; reports one {@link LoadResult} over IPC and
 * exits. Without a rate it sends as fast as the server answers; with one, at that rate overall.
 */
import { createRequire } from 'node:module';
import { tellParent } from '../lib/child.js';

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
}) => Promise<AutocannonResult>;

const [url, connections, seconds, rate] = process.argv.slice(2);
if (url === undefined) throw new Error('usage: load.ts <url> <connections> <seconds> [requests per second]');
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const r = await autocannon({
  url,
  connections: Number(connections ?? 20),
  duration: Number(seconds ?? 5),
  pipelining: 1,
  ...(rate === undefined ? {} : { overallRate: Number(rate) }),
});
const result: LoadResult = {
  type: 'load-result',
  rps: r.requests.average,
  total: r.requests.total,
  p50: r.latency.p50,
  p99: r.latency.p99,
  failures: r.non2xx + r.errors + r.timeouts,
};
tellParent(result);
process.disconnect?.();
