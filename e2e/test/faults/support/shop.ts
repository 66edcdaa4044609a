/**
 * The fault suite's shop: the whole system started the way `make dev` starts it (`startStack`: the
 * SQS/SNS emulator, a database per service, one process per service with envFor's variables, the gateway),
 * on ephemeral ports and a temporary state directory, optionally on a PostgreSQL server; its customer; the
 * services' log lines; and the checks every scenario ends with: nothing lost or done twice, the stock
 * invariant, no dead letters.
 *
 * Everything the stack prints goes to `<tmpdir>/flotilla-faults/<scenario>.log` (named in every failure).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from '@jest/globals';
import { EPHEMERAL_PORTS, startStack, type RunningService, type Stack } from '@flotilla/dev';
import { eventually } from '@flotilla/dev/testing';
import { EMULATOR_CREDENTIALS, HEALTH_PATHS, messagingResources, type QueueResource } from '@flotilla/model';
import { shop } from '../../../../services/system.js';
import { Customer, type Order } from './customer.js';
import { ledgerProblems, readLedger, type DatabaseLocation, type OrderLine } from './ledger.js';
import { PostgresServer } from './postgres-server.js';
import { inParallel, sleep } from './util.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** The catalogue's SKUs (services/inventory/src/catalogue.ts): SKU-LUXURY orders are declined and cancelled. */
export const SKUS = ['SKU-CHEAP', 'SKU-LUXURY', 'SKU-RARE'] as const;

/** A mix of orders: most are paid, every fifth is declined (SKU-LUXURY) and cancelled, its stock released. */
export function mixedOrder(i: number): OrderLine[] {
  return i % 5 === 4 ? [{ sku: 'SKU-LUXURY', quantity: 1 }] : [{ sku: 'SKU-CHEAP', quantity: 1 + (i % 3) }];
}

/** One JSON log line a service wrote. */
export interface ServiceLogRecord {
  readonly service: string;
  /** Which of its processes: `orders`, `orders#2`... */
  readonly process: string;
  readonly level?: number;
  readonly msg?: string;
  readonly status?: number;
  readonly [field: string]: unknown;
}

export interface FaultShopOptions {
  /** The scenario: names the log file. */
  readonly name: string;
  /**
   * Put the services' databases on a PostgreSQL server of the shop's own, started from the binaries in
   * this directory (see `describePostgresTier`), and stopped with the shop. @default embedded PGlite
   */
  readonly postgresBinaries?: string;
}

export interface SettleOptions {
  /** Dead letters a scenario expects, by `service/key` (e.g. `payments/orders`). @default none */
  readonly deadLetters?: Readonly<Record<string, number>>;
  /** @default 180000 */
  readonly timeoutMs?: number;
}

export class FaultShop {
  readonly customer: Customer;
  readonly sqs: SQSClient;
  private readonly initialStock: Record<string, number> = {};

  private constructor(
    readonly stack: Stack,
    /** The temporary directory: `.dev/` (the stack's state, as in the repository) lives in it. */
    readonly root: string,
    readonly logFile: string,
    private readonly log: WriteStream,
    /** Every JSON line the services wrote. */
    readonly logs: readonly ServiceLogRecord[],
    /** The shop's own PostgreSQL server, on the Postgres tier. */
    readonly postgres: PostgresServer | undefined,
  ) {
    this.customer = new Customer(stack.gatewayUrl);
    this.sqs = new SQSClient({
      endpoint: stack.emulatorEndpoint,
      region: stack.environment.aws.region,
      credentials: EMULATOR_CREDENTIALS,
    });
  }

  static async start(options: FaultShopOptions): Promise<FaultShop> {
    const root = await mkdtemp(join(tmpdir(), `flotilla-faults-${options.name}-`));
    const logDir = join(tmpdir(), 'flotilla-faults');
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, `${options.name}.log`);
    const log = createWriteStream(logFile);
    const postgres = options.postgresBinaries
      ? await PostgresServer.start(options.postgresBinaries)
      : undefined;
    postgres?.onLine((line) => log.write(`${line}\n`));
    const records: ServiceLogRecord[] = [];
    const stack = await startStack({
      system: shop,
      rootDir: REPO_ROOT,
      stateDir: join(root, '.dev'),
      ...EPHEMERAL_PORTS,
      color: false,
      gatewayReadinessIntervalMs: 500,
      ...(postgres ? { postgres: { url: postgres.url } } : {}),
      output: (line) => log.write(`${line}\n`),
      onServiceLine: (service, line, process) => {
        if (!line.startsWith('{')) return;
        try {
          records.push({ ...(JSON.parse(line) as Record<string, unknown>), service, process });
        } catch {
          // not a JSON line: only in the log file
        }
      },
    }).catch(async (err: Error) => {
      log.end();
      await postgres?.stop();
      await rm(root, { recursive: true, force: true });
      throw new Error(`${err.message} (stack log: ${logFile})`);
    });
    const started = new FaultShop(stack, root, logFile, log, records, postgres);
    await started.recordInitialStock();
    return started;
  }

  private async recordInitialStock(): Promise<void> {
    for (const sku of SKUS) {
      const { status, body } = await this.customer.get<{ available: number }>(`/api/inventory/items/${sku}`);
      if (status !== 200) throw new Error(`GET /api/inventory/items/${sku} answered ${status} at the start`);
      this.initialStock[sku] = body.available;
    }
  }

  /** A note in the log file, to find a scenario's steps among the services' lines. */
  note(text: string): void {
    this.log.write(`---- ${new Date().toISOString()} ${text}\n`);
  }

  service(name: string): RunningService {
    const found = this.stack.services().find((s) => s.name === name);
    if (!found) throw new Error(`no service ${name}`);
    return found;
  }

  pid(name: string): number {
    const pid = this.service(name).pid;
    if (pid === undefined) throw new Error(`${name} has no running process`);
    return pid;
  }

  /** Whether a process of the service answers its readiness probe with 200 right now. */
  async ready(name: string): Promise<boolean> {
    try {
      const res = await fetch(`${this.service(name).url}${HEALTH_PATHS.ready}`, {
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Waits until the supervisor has restarted `name` (a new pid) and it is ready. */
  async restarted(name: string, oldPid: number, timeoutMs = 60_000): Promise<number> {
    return eventually(
      `${name} restarted and ready`,
      async () => {
        const s = this.service(name);
        return s.pid !== undefined && s.pid !== oldPid && s.state === 'running' && (await this.ready(name))
          ? s.pid
          : undefined;
      },
      timeoutMs,
    );
  }

  /** Log lines of a 5xx answer or at level error (or worse), from any service. */
  serverErrors(): ServiceLogRecord[] {
    return this.logs.filter((r) => (typeof r.status === 'number' && r.status >= 500) || (r.level ?? 0) >= 50);
  }

  /** Log lines saying a circuit breaker opened. */
  breakerOpenings(): ServiceLogRecord[] {
    return this.logs.filter((r) => typeof r.msg === 'string' && /circuit .*\bopened\b/i.test(r.msg));
  }

  get queues(): readonly QueueResource[] {
    return messagingResources(shop, this.stack.environment).queues;
  }

  /** The queue of a service's subscription, by `service/key` (e.g. `payments/orders`). */
  queue(name: string): QueueResource {
    const q = this.queues.find((r) => `${r.service}/${r.key}` === name);
    if (!q)
      throw new Error(`no queue ${name}: ${this.queues.map((r) => `${r.service}/${r.key}`).join(', ')}`);
    return q;
  }

  /** Messages in a queue: waiting, in flight (received, not deleted) and delayed. */
  async depth(url: string): Promise<number> {
    const { Attributes } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  /** The status of an accepted order now. */
  async status(id: string): Promise<Order['status'] | undefined> {
    const { status, body } = await this.customer.get<Order>(`/api/orders/${id}`);
    return status === 200 ? body.status : undefined;
  }

  /**
   * Waits until the shop is quiet: every request with an unknown outcome sent again, every accepted order
   * in a final status with its notification, every queue empty (so late duplicates have been handled);
   * then reports the dead-letter queues that hold other than `deadLetters` expects.
   */
  async settle(options: SettleOptions = {}): Promise<string[]> {
    const timeoutMs = options.timeoutMs ?? 180_000;
    this.note('settling');
    await this.customer.reconcile();
    const ids = [...this.customer.accepted.keys()];
    const final = new Map<string, Order['status']>();
    let pending = ids;
    await eventually(
      `every accepted order in a final status and notified (${pending.length} of ${ids.length} not yet)`,
      async () => {
        const done = await inParallel(pending, 8, async (id) => {
          const status = await this.status(id);
          if (status !== 'PAID' && status !== 'CANCELLED') return false;
          const { body } = await this.customer.get<{ notifications: unknown[] }>(
            `/api/notifications?orderId=${id}`,
          );
          if ((body?.notifications?.length ?? 0) === 0) return false;
          final.set(id, status);
          return true;
        });
        pending = pending.filter((_, i) => !done[i]);
        return pending.length === 0 ? true : undefined;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; still pending: ${pending.slice(0, 5).join(', ')} (stack log: ${this.logFile})`,
      );
    });
    // Stock comes back after a cancellation (or a compensation) by a message of its own: give it time to.
    // The books below say what is wrong when it never adds up.
    const held: Record<string, number> = {};
    for (const [id, items] of this.customer.accepted)
      if (final.get(id) !== 'CANCELLED') for (const l of items) held[l.sku] = (held[l.sku] ?? 0) + l.quantity;
    await eventually(
      'the stock to add up',
      async () => {
        for (const sku of SKUS) {
          const { body } = await this.customer.get<{ available: number }>(`/api/inventory/items/${sku}`);
          if (body?.available + (held[sku] ?? 0) !== this.initialStock[sku]) return undefined;
        }
        return true;
      },
      60_000,
    ).catch(() => undefined);
    // A repeat the emulator has scheduled but not yet sent would land after an empty-looking queue.
    const drained = async () =>
      this.stack.emulator.pendingDuplicates === 0 &&
      (await Promise.all(this.queues.map((q) => this.depth(q.url)))).every((n) => n === 0);
    await eventually('every queue empty', async () => ((await drained()) ? true : undefined), timeoutMs);
    await sleep(1000);
    await eventually(
      'every queue empty, still',
      async () => ((await drained()) ? true : undefined),
      timeoutMs,
    );

    const problems: string[] = [];
    for (const q of this.queues) {
      const name = `${q.service}/${q.key}`;
      const held = await this.depth(q.dlq.url);
      const expected = options.deadLetters?.[name] ?? 0;
      if (held !== expected)
        problems.push(`dead-letter queue of ${name} holds ${held} message(s), expected ${expected}`);
    }
    return problems;
  }

  /**
   * The checks every scenario ends with: {@link FaultShop.settle}, then the books read from the services'
   * databases (see `ledgerProblems`). On embedded PGlite the databases open in one process at a time, so
   * the stack is stopped first: call this last. Returns every problem found (none: all is well).
   */
  async check(options: SettleOptions = {}): Promise<string[]> {
    const problems = await this.settle(options);
    const databases: Record<string, DatabaseLocation> = {};
    if (!this.postgres) await this.stack.stop();
    for (const s of this.stack.services()) {
      if (s.dataDir) databases[s.name] = { dir: s.dataDir };
      // The scenario's own server has no password, so the URL the stack reports is the one to use.
      else if (s.databaseUrl) databases[s.name] = { url: s.databaseUrl };
    }
    const ledger = await readLedger(databases);
    problems.push(
      ...ledgerProblems(ledger, { accepted: this.customer.accepted, initialStock: this.initialStock }),
    );
    if (problems.length > 0) problems.push(`(stack log: ${this.logFile})`);
    return problems;
  }

  /**
   * Runs what `make dlq` / `make redrive QUEUE=...` run, from the scenario's directory, whose `.dev/stack.json`
   * names this stack's emulator as the repository's names a running `make dev`.
   */
  async dlqCli(...args: string[]): Promise<{ code: number; output: string }> {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const cli = join(REPO_ROOT, 'platform/runtime/src/messaging/dlq-cli.ts');
    const system = join(REPO_ROOT, 'services/system.ts');
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--conditions=flotilla-source', '--import', tsx, cli, ...args, '--system', system],
        { cwd: this.root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d));
      child.stderr.on('data', (d: Buffer) => (output += d));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code: code ?? -1, output }));
    });
  }

  async stop(): Promise<void> {
    this.sqs.destroy();
    await this.stack.stop();
    await this.postgres?.stop();
    await new Promise((resolve) => this.log.end(resolve));
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * Starts the shop before the tests of the enclosing `describe` and stops it after them. Returns the shop
 * (once `beforeAll` has run).
 */
export function useFaultShop(options: FaultShopOptions): () => FaultShop {
  let shop: FaultShop | undefined;
  beforeAll(async () => {
    shop = await FaultShop.start(options);
  }, 180_000);
  afterAll(async () => shop?.stop(), 60_000);
  return () => {
    if (!shop) throw new Error(`the shop of ${options.name} did not start (see beforeAll's failure)`);
    return shop;
  };
}
