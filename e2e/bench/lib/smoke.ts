/**
 * What the smoke (`make bench-smoke`) checks: every suite produced every row it should, each with a sane
 * number (finite, in a plausible range for its unit). Not timing targets: the smoke runs for seconds on a
 * shared machine, so its numbers only show that the harness works.
 */
import type { ResultEntry } from '../report/results.js';

const ROUTES = ['GET /api/items/:id', 'POST /api/items'];
const PEERS = [
  'node:http',
  "bare Express 5 on the kit's server",
  'Fastify 5 + pino + @fastify/otel',
  'Express 5 + pino-http + sdk-node (http, express)',
  'Express 5 + auto-instrumentations-node',
];
const PROCESSES = ['orders', 'inventory', 'payments', 'notifications', 'stack process (emulator, gateway)'];
const QUEUES = ['payments/orders', 'orders/payments', 'notifications/orders', 'inventory/orders'];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (s: string) => new RegExp(`^${escape(s)}$`);

/**
 * Rows each suite must produce (by name). The shop's rates are a knob: every rate it reports must have all
 * of its rows, and it must report at least one.
 */
export function requiredRows(rows: readonly ResultEntry[]): Record<string, RegExp[]> {
  const rates = rows.flatMap((r) => /^(\d+(?:\.\d+)?) orders\/s: /.exec(r.name)?.[1] ?? []);
  const shopSteps = [...new Set(rates.length > 0 ? rates : ['\\d+'])]
    .map((r) => `${r} orders/s`)
    .concat('saturation \\(\\d+ customers\\)');
  return {
    http: ROUTES.flatMap((route) => [
      exactly(`${route}: kit throughput vs bare Express`),
      exactly(`${route}: kit throughput vs the fastest observable peer`),
      new RegExp(`^${escape(route)}: kit p99 latency at \\d+ req/s vs bare Express$`),
      exactly(`${route}: kit p99 latency saturated vs bare Express`),
      ...PEERS.flatMap((peer) => [
        exactly(`${route}: kit throughput vs ${peer}`),
        new RegExp(`^${escape(route)}: kit server CPU per request at \\d+ req/s vs ${escape(peer)}$`),
      ]),
    ]),
    ready: [
      exactly('spawn to /readyz 200, PGlite from template (compiled)'),
      exactly('spawn to /readyz 200, no database (compiled)'),
    ],
    consumer: [
      /^createConsumer default concurrency \(\d+\) vs sqs-consumer$/,
      /^createConsumer default concurrency \(\d+\) vs its Little's-law ceiling$/,
      /^createConsumer default concurrency \(\d+\), inbox on PGlite vs the same without inbox$/,
      exactly('createConsumer concurrency 100 vs sqs-consumer'),
      exactly('createConsumer concurrency 100 vs bare loops'),
    ],
    publish: [exactly('publishBatch vs bare SendMessageBatch loop')],
    synth: [/^\d+ services: render \+ validate vs bare cdk8s-plus$/],
    'make dev': [
      /^time to ready, first run/,
      /^time to ready, cold/,
      /^time to ready, warm/,
      exactly('resident memory of the whole stack, idle'),
      ...PROCESSES.map((p) => exactly(`resident memory, idle: ${p}`)),
      /^one PGlite instance reopening a database/,
    ],
    shop: [
      ...shopSteps.flatMap((step) =>
        [
          'orders accepted per second',
          'POST /api/orders p50',
          'POST /api/orders p99',
          'placed -> PAID p50',
          'placed -> PAID p99',
          'messages processed per second, all queues',
          'errors',
        ].map((what) => new RegExp(`^${step}: ${escape(what)}$`)),
      ),
      ...QUEUES.map(
        (q) => new RegExp(`^saturation \\(\\d+ customers\\): messages per second, ${escape(q)}$`),
      ),
      ...PROCESSES.map((p) => new RegExp(`^saturation \\(\\d+ customers\\): CPU of ${escape(p)}$`)),
      exactly('highest rate with p99 placed -> PAID under 1 s and zero errors'),
    ],
  };
}

/** The plausible range of a value in `unit` (inclusive). */
const RANGES: Record<string, [number, number]> = {
  'req/s': [1, 1e6],
  'msg/s': [0.01, 1e6],
  'orders/s': [0.01, 1e5],
  us: [0.1, 1e5],
  ms: [0, 6e5],
  s: [0.01, 900],
  MiB: [1, 65536],
  '% of a core': [0, 1e4],
  errors: [0, 1e6],
};
/** Rows whose value may be 0 (a count, or "no rate passed" on a busy machine). */
const MAY_BE_ZERO = [/: errors$/, /^highest rate/, /CPU of /];

/** Problems of a smoke run; none when every suite produced every row with a sane number. */
export function smokeProblems(rows: readonly ResultEntry[], suites: readonly string[]): string[] {
  const problems: string[] = [];
  const required = requiredRows(rows);
  // Suites report rows under their own names, and some under another (the consumer suite's publish rows).
  const rowSuites: Record<string, string[]> = {
    http: ['http'],
    ready: ['ready'],
    consumer: ['consumer', 'publish'],
    synth: ['synth'],
    shop: ['make dev', 'shop'],
  };
  for (const suite of suites)
    for (const rowSuite of rowSuites[suite] ?? [suite])
      for (const pattern of required[rowSuite] ?? []) {
        if (!rows.some((r) => r.suite === rowSuite && pattern.test(r.name)))
          problems.push(`${rowSuite}: no row matching ${pattern}`);
      }
  for (const r of rows) {
    const [lo, hi] = RANGES[r.unit] ?? [0, Number.MAX_VALUE];
    const low = MAY_BE_ZERO.some((p) => p.test(r.name)) ? 0 : lo;
    const check = (what: string, v: number | null) => {
      if (v === null) problems.push(`${r.suite} / ${r.name}: ${what} is not a number`);
      else if (v < low || v > hi)
        problems.push(`${r.suite} / ${r.name}: ${what} ${v} ${r.unit} is outside [${low}, ${hi}]`);
    };
    check('the Flotilla value', r.flotilla);
    if (r.baselineName !== null) check(`the baseline (${r.baselineName})`, r.baseline);
  }
  return problems;
}
