/**
 * Issue 16, the whole system: the shop as `make dev` runs it (./stack-host.ts: `startStack` on
 * services/system.ts, every service from sources through tsx, every trace sampled, embedded PGlite
 * databases, the SQS/SNS emulator and the gateway in the stack's own process), on ephemeral ports in a
 * temporary directory.
 *
 * make dev: time from spawning the stack's process to every service ready, from
 * - first run: no state directory and no PGlite template (a fresh clone's first `make dev`: initdb once);
 * - cold: no state directory, the PGlite template cached (after `make dev-reset`, or a second checkout
 *   pointed at the same template with FLOTILLA_PGLITE_TEMPLATE_DIR);
 * - warm: the state directory of an earlier start (every later `make dev`);
 * and the resident memory of every process of the idle stack, and what one PGlite instance adds.
 *
 * shop: orders placed through the gateway by ./orders-load.ts for BENCH_SHOP_SECONDS (60) at each rate of
 * BENCH_SHOP_RATES (open loop), then at saturation (closed loop): orders accepted per second, p50/p99 of
 * `POST /api/orders`, p50/p99 of placed -> PAID (the order's `updatedAt` - `createdAt`: its row's `now()` at
 * insert and at the PAID update, both from the orders database), messages processed per second per queue
 * (from the consumers' spans, ./span-counter.ts), CPU and peak RSS of every process (/proc), errors. After
 * each step the suite waits until every order is final and every queue empty, so steps never overlap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_SERVICE_NODE_FLAGS } from '@flotilla/dev';
import { EMULATOR_CREDENTIALS } from '@flotilla/model';
import { PGLITE_NODE_FLAGS, PGLITE_SETTINGS } from '@flotilla/runtime/pglite-settings';
import { depth } from '../../../platform/runtime/test/support/messaging-queues.js';
import { isMessage, spawnTs, type Child } from '../lib/child.js';
import { compileEntry } from '../lib/compile.js';
import { cpuMs } from '../lib/cpu.js';
import { processMemory } from '../lib/memory.js';
import { knob, listKnob, report, SMOKE, type Row } from '../lib/result.js';
import { median, percentile, samples, sleep } from '../lib/stats.js';
import type { OrdersRequest, OrdersResult, OrdersSpec } from './orders-load.js';
import { startSpanCounter } from './span-counter.js';
import type { HostOptions, StackPids, StackReady, StackService } from './stack-host.js';

const here = new URL('.', import.meta.url).pathname;
const SECONDS = knob('BENCH_SHOP_SECONDS', 60, 2);
const RATES = listKnob('BENCH_SHOP_RATES', [5, 10, 20, 40], [5]);
const SATURATION_CLIENTS = knob('BENCH_SHOP_SATURATION_CLIENTS', 16, 8);
const READY_RUNS = knob('BENCH_SHOP_READY_RUNS', 3, 1);
const SETTLE_SECONDS = knob('BENCH_SHOP_SETTLE_SECONDS', 120, 60);
/** The criterion of the "highest rate" row (issue 16): p99 placed -> PAID under 1 s, zero errors. */
const PAID_P99_LIMIT_MS = 1000;
const HOST = 'stack process (emulator, gateway)';
const IDLE_SAMPLES = knob('BENCH_SHOP_IDLE_SECONDS', 10, 2);
/** BENCH_SHOP_PARTS=make-dev: only the make dev rows (start-up and memory), not the orders under load. */
const LOAD = process.env.BENCH_SHOP_PARTS !== 'make-dev';

const work = mkdtempSync(join(tmpdir(), 'flotilla-bench-shop-'));
const counter = await startSpanCounter();
const children: Child[] = [];

interface RunningStack {
  readonly child: Child;
  readonly ready: StackReady;
  /** Spawn to every service ready, ms (the parent's clock). */
  readonly readyMs: number;
}

/** Spawns the stack's process and waits until every service is ready. */
async function startShop(stateDir: string, name: string, pgliteTemplateDir?: string): Promise<RunningStack> {
  const options: HostOptions = {
    stateDir,
    otlpEndpoint: counter.endpoint,
    logFile: join(work, `${name}.log`),
    ...(pgliteTemplateDir ? { pgliteTemplateDir } : {}),
  };
  const started = performance.now();
  // With the Node flags `make dev` gives the stack's process (the Makefile): those of a service.
  const child = spawnTs(join(here, 'stack-host.ts'), {
    args: [JSON.stringify(options)],
    nodeArgs: [...DEFAULT_SERVICE_NODE_FLAGS],
  });
  children.push(child);
  const ready = await child.message(isMessage<StackReady>('stack-ready'), 240_000).catch((err: Error) => {
    throw new Error(`${err.message} (stack log: ${options.logFile})`);
  });
  const readyMs = performance.now() - started;
  console.log(`${name}: every service ready ${(readyMs / 1000).toFixed(1)} s after spawn`);
  return { child, ready, readyMs };
}

async function stopShop(s: RunningStack): Promise<void> {
  if (s.child.process.connected) s.child.process.send({ type: 'stack-stop' });
  await Promise.race([s.child.exited, sleep(60_000)]);
  await s.child.stop();
}

async function currentServices(s: RunningStack): Promise<readonly StackService[]> {
  const answer = s.child.message(isMessage<StackPids>('stack-pids'), 10_000);
  s.child.process.send({ type: 'stack-pids' });
  return (await answer).services;
}

/** The processes of a running stack, by name. */
async function processes(s: RunningStack): Promise<Map<string, number | undefined>> {
  const services = await currentServices(s);
  return new Map<string, number | undefined>([
    ...services.map((x): [string, number | undefined] => [x.name, x.pid]),
    [HOST, s.ready.hostPid],
  ]);
}

const mb = (v: number | undefined) => (v === undefined ? NaN : Math.round(v));

// ------------------------------------------------------------------------------------------ make dev
interface MemoryShot {
  readonly name: string;
  readonly rssMb: number;
  readonly pssMb: number | undefined;
}

async function memoryOf(s: RunningStack): Promise<MemoryShot[]> {
  const shots: MemoryShot[] = [];
  for (const [name, pid] of await processes(s)) {
    const m = processMemory(pid);
    shots.push({ name, rssMb: m?.rssMb ?? NaN, pssMb: m?.pssMb });
  }
  return shots;
}

interface PgliteRss {
  readonly type: 'pglite-rss';
  readonly beforeKb: number;
  readonly importedKb: number;
  readonly openedKb: number;
  readonly peakKb: number;
  readonly openMs: number;
}

/**
 * One PGlite instance reopening `dataDir` in a process of its own: as the platform opens it (the runtime's
 * start parameters and Node flags, as `make dev` spawns a service), or with PGlite's own defaults.
 */
async function probePglite(dataDir: string, mode: 'platform' | 'pglite-defaults'): Promise<PgliteRss> {
  const probe = spawnTs(compileEntry(join(here, 'pglite-probe.ts')), {
    args: [dataDir, mode],
    sources: false,
    ...(mode === 'platform' ? { nodeArgs: [...PGLITE_NODE_FLAGS] } : {}),
  });
  children.push(probe);
  const result = await probe.message(isMessage<PgliteRss>('pglite-rss'), 60_000);
  await probe.exited;
  return result;
}

// ------------------------------------------------------------------------------------------ shop load
interface StepResult {
  readonly label: string;
  /** Open-loop rate; undefined at saturation. */
  readonly rate: number | undefined;
  readonly orders: OrdersResult;
  readonly acceptedPerSecond: number;
  readonly paidMs: number[];
  /** Accepted orders not final within the settle timeout, or final in the wrong status. */
  readonly unfinished: number;
  readonly wrongStatus: number;
  readonly deadLetters: number;
  readonly settleMs: number;
  /** Per process: CPU % of one core over the step, peak RSS MiB sampled each second. */
  readonly usage: Map<string, { cpuPct: number; peakRssMb: number; restarted: boolean }>;
}

interface OrderView {
  readonly status: 'PENDING' | 'PAID' | 'CANCELLED';
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

async function orderView(ordersUrl: string, id: string): Promise<OrderView | undefined> {
  try {
    const res = await fetch(`${ordersUrl}/api/orders/${id}`, { signal: AbortSignal.timeout(10_000) });
    return res.ok ? ((await res.json()) as OrderView) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until every queue of the stack is empty, or until `deadline` (performance.now() time). */
async function queuesEmpty(s: RunningStack, sqs: SQSClient, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    const depths = await Promise.all(s.ready.queues.map((q) => depth(sqs, q.url)));
    if (depths.every((d) => d === 0)) return;
    await sleep(250);
  }
}

function placeOrders(generator: Child, spec: OrdersSpec): Promise<OrdersResult> {
  const answer = generator.message(isMessage<OrdersResult>('orders-result'), (spec.seconds + 120) * 1000);
  generator.process.send({ type: 'orders', spec } satisfies OrdersRequest);
  return answer;
}

async function runStep(
  s: RunningStack,
  generator: Child,
  sqs: SQSClient,
  spec: OrdersSpec,
  label: string,
): Promise<StepResult> {
  const procs = await processes(s);
  procs.set('load generator (not part of the stack)', generator.process.pid);
  const cpuBefore = new Map([...procs].map(([n, pid]) => [n, cpuMs(pid)]));
  const peak = new Map<string, number>();
  const sample = () => {
    for (const [n, pid] of procs) peak.set(n, Math.max(peak.get(n) ?? 0, processMemory(pid)?.rssMb ?? 0));
  };
  sample();
  const sampler = setInterval(sample, 1000);
  const wallBefore = performance.now();
  const deadBefore = await deadLetterCount(sqs);
  const orders = await placeOrders(generator, spec);
  const wall = performance.now() - wallBefore;
  clearInterval(sampler);
  sample();
  const after = new Map(await processes(s));
  after.set('load generator (not part of the stack)', generator.process.pid);
  const usage = new Map<string, { cpuPct: number; peakRssMb: number; restarted: boolean }>();
  for (const [n, pid] of procs) {
    const restarted = after.get(n) !== pid;
    const before = cpuBefore.get(n);
    const now = restarted ? undefined : cpuMs(pid);
    usage.set(n, {
      cpuPct: before === undefined || now === undefined ? NaN : ((now - before) / wall) * 100,
      peakRssMb: peak.get(n) ?? NaN,
      restarted,
    });
  }

  // Wait until every accepted order is final, then read how long each took to be PAID.
  const ordersUrl = (await currentServices(s)).find((x) => x.name === 'orders')?.url as string;
  const settled = performance.now();
  const final = new Map<string, OrderView>();
  let pending = orders.accepted;
  while (pending.length > 0 && performance.now() - settled < SETTLE_SECONDS * 1000) {
    const views = await inParallel(pending, 16, (o) => orderView(ordersUrl, o.id));
    views.forEach((v, i) => {
      if (v && v.status !== 'PENDING') final.set((pending[i] as { id: string }).id, v);
    });
    pending = pending.filter((o) => !final.has(o.id));
    if (pending.length > 0) await sleep(250);
  }
  // Every queue empty too (late events: notifications, stock released after a cancellation).
  await queuesEmpty(s, sqs, settled + SETTLE_SECONDS * 1000);
  const settleMs = performance.now() - settled;
  console.log(
    `${label}: ${orders.accepted.length} of ${orders.sent} accepted, POST p99 ${Math.round(orders.p99)} ms, ` +
      `settled ${(settleMs / 1000).toFixed(1)} s after the last answer`,
  );
  const paidMs: number[] = [];
  let wrongStatus = 0;
  for (const o of orders.accepted) {
    const v = final.get(o.id);
    if (!v) continue;
    if (v.status !== (o.declined ? 'CANCELLED' : 'PAID')) wrongStatus++;
    else if (v.status === 'PAID') paidMs.push(Date.parse(v.updatedAt) - Date.parse(v.createdAt));
  }
  paidMs.sort((a, b) => a - b);
  return {
    label,
    rate: spec.mode === 'open' ? spec.rate : undefined,
    orders,
    // Over the step's time, or longer when the last answers came after it.
    acceptedPerSecond:
      orders.accepted.length / Math.max(spec.seconds, (orders.endedAt - orders.startedAt) / 1000),
    paidMs,
    unfinished: pending.length,
    wrongStatus,
    deadLetters: (await deadLetterCount(sqs)) - deadBefore,
    settleMs,
    usage,
  };

  async function deadLetterCount(client: SQSClient): Promise<number> {
    const counts = await Promise.all(s.ready.queues.map((q) => depth(client, q.dlqUrl)));
    return counts.reduce((a, b) => a + b, 0);
  }
}

const clientErrors = (r: OrdersResult) =>
  Object.entries(r.statuses)
    .filter(([status]) => status !== '201')
    .reduce((n, [, count]) => n + count, 0);
const errorsOf = (step: StepResult) =>
  clientErrors(step.orders) + step.unfinished + step.wrongStatus + step.deadLetters;

// ------------------------------------------------------------------------------------------ the run
const rows: Row[] = [];
let running: RunningStack | undefined;
try {
  // make dev: first run, then cold and warm alternately; the last warm stack stays up for the load.
  // A template directory that does not exist yet: startStack runs initdb into it, as on a fresh clone.
  const templateDir = join(work, 'pglite-template-first-run');
  const first = await startShop(join(work, 'first', '.dev'), 'first-run', templateDir);
  await stopShop(first);
  const cold: RunningStack[] = [];
  const warm: RunningStack[] = [];
  const coldState = (i: number) => join(work, `cold-${i}`, '.dev');
  let probe: { platform: PgliteRss; defaults: PgliteRss } | undefined;
  for (let i = 0; i < READY_RUNS; i++) {
    const c = await startShop(coldState(i), `cold-${i}`);
    cold.push(c);
    const ordersDir = (await currentServices(c)).find((x) => x.name === 'orders')?.dataDir;
    await stopShop(c);
    // One PGlite instance reopening the orders database just written (no stack running).
    if (i === 0 && ordersDir)
      probe = {
        platform: await probePglite(ordersDir, 'platform'),
        defaults: await probePglite(ordersDir, 'pglite-defaults'),
      };
    const w = await startShop(coldState(i), `warm-${i}`);
    warm.push(w);
    if (i < READY_RUNS - 1) await stopShop(w);
    else running = w;
  }
  const stack = running as RunningStack;
  // Start-up work (migrations, first polls, JIT, garbage collection) settles before memory is read: the
  // idle figure is the last of IDLE_SAMPLES readings a second apart, the highest one goes in the note.
  const idle: MemoryShot[][] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    await sleep(1000);
    idle.push(await memoryOf(stack));
  }
  const memory = idle[idle.length - 1] as MemoryShot[];
  const idlePeakMb = Math.max(...idle.map((shots) => shots.reduce((n, m) => n + m.rssMb, 0)));
  rows.push(...makeDevRows(first, cold, warm, memory, idlePeakMb, probe));
  if (!LOAD) {
    await stopShop(stack);
    running = undefined;
    report(rows);
  } else {
    // shop: the rates, then saturation, on the warm stack.
    const generator = spawnTs(join(here, 'orders-load.ts'));
    children.push(generator);
    const sqs = new SQSClient({
      endpoint: stack.ready.emulatorEndpoint,
      region: stack.ready.region,
      credentials: EMULATOR_CREDENTIALS,
    });
    const steps: StepResult[] = [];
    const gatewayUrl = stack.ready.gatewayUrl;
    // A few orders first: JIT, connection pools and the consumers' first polls are not part of a step.
    await placeOrders(generator, { gatewayUrl, mode: 'open', rate: 5, seconds: SMOKE ? 1 : 5 });
    await queuesEmpty(stack, sqs, performance.now() + SETTLE_SECONDS * 1000);
    let overCapacity: string | undefined;
    for (const rate of RATES) {
      if (overCapacity !== undefined) continue;
      const step = await runStep(
        stack,
        generator,
        sqs,
        { gatewayUrl, mode: 'open', rate, seconds: SECONDS },
        `${rate} orders/s`,
      );
      steps.push(step);
      // Far past capacity: a higher rate would only pile up more; the saturation step still runs.
      if (step.unfinished > 0 || percentile(step.paidMs, 99) > 10 * PAID_P99_LIMIT_MS)
        overCapacity = `not run above ${rate} orders/s: the shop was already past capacity there`;
    }
    steps.push(
      await runStep(
        stack,
        generator,
        sqs,
        { gatewayUrl, mode: 'closed', clients: SATURATION_CLIENTS, seconds: SECONDS },
        `saturation (${SATURATION_CLIENTS} customers)`,
      ),
    );
    sqs.destroy();
    // Stopping flushes every service's spans: the per-queue counts below are then complete.
    await stopShop(stack);
    running = undefined;
    await sleep(1000);
    rows.push(...shopRows(stack, steps, overCapacity));
    report(rows);
  }
} finally {
  if (running) await stopShop(running).catch(() => undefined);
  await Promise.all(children.map((c) => c.stop()));
  await counter.close();
  rmSync(work, { recursive: true, force: true });
}

function makeDevRows(
  first: RunningStack,
  cold: readonly RunningStack[],
  warm: readonly RunningStack[],
  memory: readonly MemoryShot[],
  idlePeakMb: number,
  probe: { platform: PgliteRss; defaults: PgliteRss } | undefined,
): Row[] {
  const seconds = (runs: readonly RunningStack[]) => runs.map((r) => r.readyMs / 1000);
  const startStackSeconds = (runs: readonly RunningStack[]) => runs.map((r) => r.ready.startStackMs / 1000);
  const readyRow = (name: string, runs: readonly RunningStack[], what: string): Row => ({
    suite: 'make dev',
    name,
    unit: 's',
    flotilla: median(seconds(runs)),
    baseline: undefined,
    target: { kind: 'info' },
    note:
      `${what}; spawn of the stack's process to every service ready, ${runs.length} run(s): ` +
      `${samples(seconds(runs), 1)} s (of which startStack, as make dev's "ready in": ${samples(startStackSeconds(runs), 1)} s)`,
  });
  const totalRss = memory.reduce((n, m) => n + m.rssMb, 0);
  const totalPss = memory.every((m) => m.pssMb !== undefined)
    ? memory.reduce((n, m) => n + (m.pssMb as number), 0)
    : undefined;
  const perProcess = memory
    .map((m) => `${m.name} ${mb(m.rssMb)} MiB RSS${m.pssMb === undefined ? '' : ` (${mb(m.pssMb)} PSS)`}`)
    .join('; ');
  const out: Row[] = [
    readyRow(
      'time to ready, first run (no state, no PGlite template)',
      [first],
      'no .dev state directory and no PGlite template: a fresh clone`s first make dev, initdb included',
    ),
    readyRow(
      'time to ready, cold (no state directory, PGlite template cached)',
      cold,
      'no .dev state directory (after make dev-reset); the PGlite template of node_modules/.cache reused',
    ),
    readyRow(
      'time to ready, warm (existing state directory)',
      warm,
      'the .dev state of the cold start before it',
    ),
    {
      suite: 'make dev',
      name: 'resident memory of the whole stack, idle',
      unit: 'MiB',
      flotilla: Math.round(totalRss),
      baseline: undefined,
      target: { kind: 'max-value', value: 1024 },
      note:
        `${totalRss > 1024 ? 'OVER 1 GiB; ' : ''}sum of the RSS of every process ${IDLE_SAMPLES} s after ready ` +
        `(at most ${mb(idlePeakMb)} MiB in those ${IDLE_SAMPLES} s)` +
        `${totalPss === undefined ? '' : `; PSS (shared pages divided among the processes) ${mb(totalPss)} MiB`}: ${perProcess}`,
    },
    ...memory.map((m): Row => ({
      suite: 'make dev',
      name: `resident memory, idle: ${m.name}`,
      unit: 'MiB',
      flotilla: mb(m.rssMb),
      baseline: undefined,
      target: { kind: 'info' },
      note: m.pssMb === undefined ? 'RSS' : `RSS; PSS ${mb(m.pssMb)} MiB`,
    })),
  ];
  const probeRow = (p: PgliteRss, name: string, how: string): Row => ({
    suite: 'make dev',
    name,
    unit: 'MiB',
    flotilla: mb((p.openedKb - p.beforeKb) / 1024),
    baseline: undefined,
    target: { kind: 'info' },
    note:
      `a node process reopening the orders database ${how} (PGlite.create + select 1, ${Math.round(p.openMs)} ms): ` +
      `RSS ${mb(p.beforeKb / 1024)} MiB before, ${mb(p.importedKb / 1024)} after importing PGlite, ` +
      `${mb(p.openedKb / 1024)} open, peak ${mb(p.peakKb / 1024)}`,
  });
  if (probe)
    out.push(
      probeRow(
        probe.platform,
        'one PGlite instance reopening a database: resident memory it adds',
        `as the platform opens it (${Object.entries(PGLITE_SETTINGS)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}; node ${PGLITE_NODE_FLAGS.join(' ')})`,
      ),
      probeRow(
        probe.defaults,
        "one PGlite instance reopening a database with PGlite's defaults: resident memory it adds",
        "with PGlite's own defaults (shared_buffers from initdb, V8's default WebAssembly tiering)",
      ),
    );
  return out;
}

function shopRows(
  stack: RunningStack,
  steps: readonly StepResult[],
  overCapacity: string | undefined,
): Row[] {
  const out: Row[] = [];
  const queueRates = (step: StepResult) =>
    stack.ready.queues.map((q) => {
      const seconds = (step.orders.endedAt - step.orders.startedAt) / 1000;
      const { messages, failed } = counter.processed(q.name, step.orders.startedAt, step.orders.endedAt);
      return { label: q.label, perSecond: messages / seconds, failed };
    });
  const usageText = (step: StepResult) =>
    [...step.usage]
      .map(
        ([n, u]) =>
          `${n} ${Number.isNaN(u.cpuPct) ? '-' : Math.round(u.cpuPct)}% CPU, ${mb(u.peakRssMb)} MiB peak RSS${u.restarted ? ' (RESTARTED)' : ''}`,
      )
      .join('; ');
  for (const step of steps) {
    const o = step.orders;
    const x = step.rate;
    const chart = (series: string) => (x === undefined ? {} : { chart: { id: 'shop-latency', x, series } });
    const statuses = Object.entries(o.statuses)
      .map(([k, v]) => `${k === '0' ? 'no answer' : k} x${v}`)
      .join(', ');
    const queues = queueRates(step);
    const failedDeliveries = queues.reduce((n, q) => n + q.failed, 0);
    const row = (name: string, unit: string, value: number, note: string, extra: Partial<Row> = {}): Row => ({
      suite: 'shop',
      name: `${step.label}: ${name}`,
      unit,
      flotilla: value,
      baseline: undefined,
      target: { kind: 'info' },
      note,
      ...extra,
    });
    out.push(
      row(
        'orders accepted per second',
        'orders/s',
        step.acceptedPerSecond,
        `${o.sent} sent in ${SECONDS} s, ${o.accepted.length} accepted (${statuses}); generator lag at most ` +
          `${Math.round(o.maxLagMs)} ms; all final and every queue empty ${(step.settleMs / 1000).toFixed(1)} s after ` +
          `the last answer; ${usageText(step)}`,
      ),
      row('POST /api/orders p50', 'ms', o.p50, `max ${Math.round(o.max)} ms`, chart('POST /api/orders p50')),
      row('POST /api/orders p99', 'ms', o.p99, `through the gateway`, chart('POST /api/orders p99')),
      row(
        'placed -> PAID p50',
        'ms',
        percentile(step.paidMs, 50),
        `${step.paidMs.length} paid orders; the order's updatedAt - createdAt`,
        chart('placed -> PAID p50'),
      ),
      row(
        'placed -> PAID p99',
        'ms',
        percentile(step.paidMs, 99),
        `max ${Math.round(step.paidMs[step.paidMs.length - 1] ?? NaN)} ms`,
        chart('placed -> PAID p99'),
      ),
      row(
        'messages processed per second, all queues',
        'msg/s',
        queues.reduce((n, q) => n + q.perSecond, 0),
        `${queues.map((q) => `${q.label} ${q.perSecond.toFixed(1)}`).join('; ')}; from the consumers' spans` +
          `${failedDeliveries > 0 ? `; ${failedDeliveries} deliveries failed (retried)` : ''}`,
      ),
      row(
        'errors',
        'errors',
        errorsOf(step),
        `non-201 answers ${clientErrors(o)}, orders not final after ${SETTLE_SECONDS} s ${step.unfinished}, ` +
          `in the wrong final status ${step.wrongStatus}, new dead letters ${step.deadLetters}`,
      ),
    );
    if (x === undefined) {
      for (const q of queues)
        out.push(
          row(
            `messages per second, ${q.label}`,
            'msg/s',
            q.perSecond,
            "processed, from the consumers' spans",
          ),
        );
      for (const [n, u] of step.usage) {
        out.push(
          row(
            `CPU of ${n}`,
            '% of a core',
            u.cpuPct,
            u.restarted ? 'RESTARTED during the step' : 'over the step',
          ),
          row(`peak resident memory of ${n}`, 'MiB', u.peakRssMb, 'RSS sampled every second'),
        );
      }
    }
  }
  const good = steps.filter(
    (s) => s.rate !== undefined && errorsOf(s) === 0 && percentile(s.paidMs, 99) < PAID_P99_LIMIT_MS,
  );
  const best = good.reduce<StepResult | undefined>(
    (a, b) => (a === undefined || (b.rate ?? 0) > (a.rate ?? 0) ? b : a),
    undefined,
  );
  out.push({
    suite: 'shop',
    name: 'highest rate with p99 placed -> PAID under 1 s and zero errors',
    unit: 'orders/s',
    flotilla: best?.rate ?? 0,
    baseline: undefined,
    target: { kind: 'info' },
    note:
      `of the rates tried (${RATES.join(', ')} orders/s, ${SECONDS} s each)` +
      `${overCapacity ? `; ${overCapacity}` : ''}; ${counter.spans} spans received, ${counter.undecodable} undecodable exports`,
  });
  return out;
}
