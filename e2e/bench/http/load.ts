/**
 * The load generator's runs. Without a rate it sends as fast as the server answers (autocannon, closed loop,
 * `connections` requests in flight); with one, evenly paced at that rate (open loop, {@link runPaced}).
 * Benchmarks run it in a process of its own (./load-process.ts, driven by ./generator.ts), so it never
 * competes with a server's event loop.
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { percentile } from '../lib/stats.js';

/** One load run. */
export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  /** Requests per second overall; absent: as fast as the server answers. */
  readonly rate?: number;
  /**
   * With a rate: seconds at that rate before the `seconds` that count, on the same connections, whose
   * latencies are not recorded (they must still succeed). A paced run starts on new connections, and a
   * server that was idle or saturated a moment ago takes a while to settle at the rate (see
   * ../README.md, "what sets the p99"); a steady-state percentile leaves that out.
   * @default 0
   */
  readonly settleSeconds?: number;
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
  /** Responses whose latency counts in the percentiles: all 2xx ones but those of the settling seconds. */
  readonly measured: number;
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

/** Runs one load against `spec.url` and measures it. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return spec.rate === undefined ? runSaturated(spec) : runPaced(spec, spec.rate);
}

/** What every request of a run sends, for both generators. */
function requestOf(spec: LoadSpec): { method: string; body?: string; headers: Record<string, string> } {
  if (spec.json === undefined) return { method: spec.method ?? 'GET', headers: {} };
  return {
    method: spec.method ?? 'POST',
    body: JSON.stringify(spec.json),
    headers: { 'content-type': 'application/json' },
  };
}

/** As fast as the server answers: autocannon with `connections` requests always in flight. */
async function runSaturated(spec: LoadSpec): Promise<LoadResult> {
  const times = new ResponseTimes();
  const running = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    pipelining: 1,
    ...requestOf(spec),
  });
  running.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) times.add(ms);
  });
  const r = await running;
  return {
    type: 'load-result',
    rps: r.requests.average,
    total: r.requests.total,
    measured: times.count,
    p50: times.percentile(50),
    p99: times.percentile(99),
    failures: r.non2xx + r.errors + r.timeouts,
  };
}

/** How often the paced generator sends what is due: 3 requests a tick at 3000 req/s. */
const PACING_TICK_MS = 1;

/**
 * An open loop at `rate`: request i is due at start + i / rate and sent then (on one of `connections`
 * keep-alive connections, or the next one to be free), whether or not earlier ones were answered, and
 * its latency counts from when it was due (to the tick that found it due), so a stall of the server shows
 * in full.
 * Why not autocannon's rate: it lets each connection send its whole quota for a second as fast as it can,
 * then waits for the next second, so a "3000 req/s" run is a saturated burst each second and its latency
 * is the burst's queueing, not the server's at that rate.
 */
async function runPaced(spec: LoadSpec, rate: number): Promise<LoadResult> {
  const target = new URL(spec.url);
  const requestBytes = rawRequest(spec, target);
  const settling = Math.round(rate * (spec.settleSeconds ?? 0));
  const total = settling + Math.max(1, Math.round(rate * spec.seconds));
  const intervalMs = 1000 / rate;
  const times = new ResponseTimes();
  let failures = 0;
  let settled = 0;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const connections: PacedConnection[] = [];
  const finished = await new Promise<number>((resolve, reject) => {
    /** Requests waiting for a free connection (their number and due time), oldest first. */
    const waiting: [number, number][] = [];
    const idle: PacedConnection[] = [];
    const onAnswer = (connection: PacedConnection, request: number, dueAt: number, ok: boolean) => {
      if (!ok) failures++;
      else if (request >= settling) times.add(performance.now() - dueAt);
      if (++settled === total) return resolve(performance.now());
      const next = waiting.shift();
      if (next === undefined) idle.push(connection);
      else connection.send(...next);
    };
    for (let i = 0; i < spec.connections; i++)
      connections.push(new PacedConnection(target, requestBytes, onAnswer, reject));
    idle.push(...connections);
    let sent = 0;
    const tick = () => {
      // Requests count from this tick, not from their exact due time: a late timer is this generator's
      // delay, not the server's. Waiting for a free connection counts: the server holds them all.
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - started) / intervalMs) + 1);
      for (; sent < due; sent++) {
        const connection = idle.pop();
        if (connection === undefined) waiting.push([sent, now]);
        else connection.send(sent, now);
      }
      if (sent === total) clearInterval(timer);
    };
    timer = setInterval(tick, PACING_TICK_MS);
    tick();
  }).finally(() => {
    clearInterval(timer);
    for (const connection of connections) connection.close();
  });
  return {
    type: 'load-result',
    rps: (total - failures) / ((finished - started) / 1000),
    total,
    measured: times.count,
    p50: times.percentile(50),
    p99: times.percentile(99),
    failures,
  };
}

/** The bytes of one request of `spec`, built once and written as is for every request (as autocannon does). */
function rawRequest(spec: LoadSpec, target: URL): Buffer {
  const { method, body = '', headers } = requestOf(spec);
  const head = [`${method} ${target.pathname} HTTP/1.1`, `host: ${target.host}`, 'connection: keep-alive'];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  if (body !== '') head.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`);
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;

/**
 * One keep-alive connection sending one request at a time and reading its answer: the status line and
 * `Content-Length` are all it needs of the servers of this suite (none answers chunked). Cheap per request,
 * so the generator adds little of its own to the latency it measures.
 */
class PacedConnection {
  readonly #socket: Socket;
  #buffered: Buffer = Buffer.alloc(0);
  #request = 0;
  #dueAt = 0;

  constructor(
    target: URL,
    private readonly requestBytes: Buffer,
    private readonly onAnswer: (c: PacedConnection, request: number, dueAt: number, ok: boolean) => void,
    onError: (err: Error) => void,
  ) {
    this.#socket = connect({ host: target.hostname, port: Number(target.port) });
    this.#socket.setNoDelay(true);
    this.#socket.on('data', (chunk: Buffer) => this.#read(chunk));
    this.#socket.on('error', onError);
  }

  close(): void {
    this.#socket.destroy();
  }

  /** Sends request number `request` of the run, due at `dueAt`. */
  send(request: number, dueAt: number): void {
    this.#request = request;
    this.#dueAt = dueAt;
    this.#socket.write(this.requestBytes);
  }

  #read(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const headerEnd = this.#buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.#buffered.toString('latin1', 0, headerEnd);
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
    const end = headerEnd + HEADER_END.length + length;
    if (this.#buffered.length < end) return;
    this.#buffered = this.#buffered.subarray(end);
    // `HTTP/1.1 201 Created`: the status is the second word.
    const status = Number(head.slice(9, 12));
    this.onAnswer(this, this.#request, this.#dueAt, status >= 200 && status < 300);
  }
}

/** Every response time of a run (a saturated run is ~150k of them: 1.2 MB), for exact percentiles. */
class ResponseTimes {
  #values = new Float64Array(1 << 16);
  #count = 0;

  /** How many times were added. */
  get count(): number {
    return this.#count;
  }

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  /** The nearest-rank percentile, ms rounded to the microsecond; NaN without responses. */
  percentile(p: number): number {
    return Math.round(percentile(this.#values.subarray(0, this.#count).sort(), p) * 1000) / 1000;
  }
}
