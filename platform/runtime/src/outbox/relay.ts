/**
 * The outbox relay: publishes committed outbox rows in sequence order, in batches of up to 10, marks them
 * sent, retries failed ones with backoff, and parks as dead letters the rows that keep failing as the
 * sender's fault.
 *
 * Each round (1) claims due rows in one short transaction: it takes the relay's advisory lock (so two
 * replicas never claim overlapping rows or reorder a destination) and stamps the rows with a lease
 * (`claimed_until`, `claimed_by`), then commits; (2) publishes them outside any transaction, under a
 * deadline (`publishTimeoutMs`, shorter than the lease); (3) marks each row sent, or failed. No lock,
 * transaction or connection is held while the publish runs, so a hung publish blocks neither the service's
 * queries nor another replica's relay; it only holds back the destinations of the rows it claimed, until
 * its deadline.
 *
 * Delivery is at least once: a crash between commit and publish loses nothing (the row stays pending); a
 * crash or deadline between publish and "mark sent" publishes the row again (after the lease expires, at
 * most `publishTimeoutMs` + 5 s later), and the consumer's inbox absorbs the duplicate. On PGlite (one
 * process owns the database) a restarted relay takes over its predecessor's leases at once.
 *
 * Ordering, per destination (topic or queue): the relay hands rows to SNS/SQS in sequence order, and a row
 * not yet delivered holds back every later row of its destination that was not in the same call. Exactly:
 * - rows go out in batch calls of up to 10 entries, in sequence order; within one call AWS may accept a
 *   later entry and refuse an earlier one (the publisher's own retries of that call deliver it after);
 * - a row that failed (any reason) is retried before any later row of its destination is handed over;
 *   while it waits for its retry, nothing later of its destination goes;
 * - a row whose last failure was the sender's fault is retried alone, so it cannot be overtaken again;
 *   after `maxSenderFaults` such failures it is parked as a dead letter and the rows behind it go on.
 *   Re-driving a dead letter (`make redrive QUEUE=<service>/outbox`) publishes it after what went meanwhile;
 * - SNS standard topics and SQS standard queues themselves deliver in best-effort order only: what the
 *   relay guarantees is the order it hands messages over in, not the order a consumer receives them in.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../database/index.js';
import { equalJitterDelay } from '../messaging/backoff.js';
import { MAX_BATCH_ENTRIES as MAX_BATCH } from '../messaging/delivery.js';
import type { EventEnvelope } from '../messaging/envelope.js';
import { errorMessage, type Lifecycle, type Logger } from '../kit.js';
import type { OutboxMessage, OutboxPublish, OutboxPublishResult } from './message.js';
import { onOutboxCommit } from './signal.js';

/** Second key of the relay's advisory lock is a hash of the schema; this is the first. */
const RELAY_LOCK_CLASS = 0x6f7574; // "out"

/** How much longer a claim lasts than the publish deadline: the time to mark the rows after it. */
const LEASE_MARGIN_MS = 5000;

/** Retry policy for rows whose publish failed. */
export interface OutboxRetryOptions {
  /** Delay before the first retry; doubles per attempt, with jitter. @default 1000 */
  readonly baseDelayMs?: number;
  /** Upper bound of the delay. @default 60000 */
  readonly maxDelayMs?: number;
}

/** Options of {@link startOutboxRelay}. */
export interface OutboxRelayOptions<DB> {
  readonly database: Database<DB>;
  /** Delivers a batch; see {@link OutboxPublish}. */
  readonly publish: OutboxPublish;
  readonly log: Logger;
  /** When given, stopping the relay is registered as the stop hook `outbox-relay`. */
  readonly lifecycle?: Lifecycle;
  /**
   * Polling interval: the safety net behind the immediate wake-up after each commit (rows written by
   * another replica, or outside `database.transaction()`).
   * @default 1000
   */
  readonly intervalMs?: number;
  /** Rows per publish call, 1-10. @default 10 */
  readonly batchSize?: number;
  /**
   * Backoff of failed rows. Failures that are not the sender's fault (throttling, timeouts, SNS/SQS
   * unreachable, server faults) are retried with it for as long as they last: they never park a row.
   */
  readonly retry?: OutboxRetryOptions;
  /**
   * Deadline of one publish call: a backstop above the AWS clients' own deadlines and retries. When it
   * passes, the call's signal aborts and its rows count as failed (transiently) and are retried. The claim
   * on them lasts this plus 5 s: on a PostgreSQL server, a relay that dies mid-publish holds back the
   * destinations it claimed for at most that long (on PGlite, the restarted relay takes over at once).
   * @default 30000
   */
  readonly publishTimeoutMs?: number;
  /**
   * Failures as the sender's fault (AWS `SenderFault`: message too large or invalid, unknown destination)
   * after which a row is parked as a dead letter: kept with its reason and attempts, shown by `make dlq`,
   * re-sent by `make redrive QUEUE=<service>/outbox`.
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_BatchResultErrorEntry.html
   * @default 5
   */
  readonly maxSenderFaults?: number;
}

/** Counters since start. */
export interface OutboxRelayStats {
  readonly published: number;
  readonly failed: number;
  /** Rows parked as dead letters. */
  readonly deadLettered: number;
  readonly batches: number;
}

export interface OutboxRelay {
  /** Asks for a publish round now (coalesced with one in flight). */
  wake(): void;
  /** Publishes until no row is due now; resolves when done. Rows waiting for a retry are left. */
  flush(): Promise<void>;
  stats(): OutboxRelayStats;
  /** Stops polling and waits for the batch in flight to finish (published and marked). Idempotent. */
  stop(): Promise<void>;
}

interface OutboxRow {
  sequence: string;
  event_id: string;
  destination_kind: 'topic' | 'queue';
  destination: string;
  envelope: EventEnvelope;
  trace_context: { traceparent?: string; tracestate?: string; requestId?: string } | null;
  attempts: number;
  sender_faults: number;
}

interface Failure {
  readonly row: OutboxRow;
  readonly reason: string;
  readonly senderFault: boolean;
  readonly delayMs: number;
}

function toMessage(row: OutboxRow): OutboxMessage {
  return {
    sequence: String(row.sequence),
    kind: row.destination_kind,
    destination: row.destination,
    envelope: row.envelope,
    attempts: row.attempts,
    ...row.trace_context,
  };
}

const bySequence = (a: OutboxRow, b: OutboxRow) => (BigInt(a.sequence) < BigInt(b.sequence) ? -1 : 1);

/**
 * Pending rows that may go now, in order: due, not claimed by a live lease, and no earlier pending row of
 * the same destination is waiting for a retry, claimed, or failed last as the sender's fault.
 */
function dueRows(limit: number): RawBuilder<unknown> {
  return sql`
    select o.sequence from flotilla_outbox o
    where o.sent_at is null and o.dead_lettered_at is null
      and o.next_attempt_at <= now()
      and (o.claimed_until is null or o.claimed_until <= now())
      and not exists (
        select 1 from flotilla_outbox e
        where e.sent_at is null and e.dead_lettered_at is null
          and e.destination_kind = o.destination_kind
          and e.destination = o.destination
          and e.sequence < o.sequence
          and (e.next_attempt_at > now() or e.claimed_until > now() or e.sender_faults > 0))
    order by o.sequence
    limit ${limit}`;
}

/** Claim ids of the relays running in this process, per database: the leases that are certainly alive. */
const liveClaims = new WeakMap<object, Set<string>>();

/** Starts the relay of a service database. */
export function startOutboxRelay<DB>(options: OutboxRelayOptions<DB>): OutboxRelay {
  const { database, publish, log } = options;
  const intervalMs = options.intervalMs ?? 1000;
  const batchSize = options.batchSize ?? MAX_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw new Error(
      `startOutboxRelay: batchSize must be an integer from 1 to ${MAX_BATCH} (got ${batchSize}).`,
    );
  }
  const publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
  const maxSenderFaults = options.maxSenderFaults ?? 5;
  for (const [name, value] of [
    ['publishTimeoutMs', publishTimeoutMs],
    ['maxSenderFaults', maxSenderFaults],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new Error(`startOutboxRelay: ${name} must be a positive integer (got ${value}).`);
  }
  const leaseMs = publishTimeoutMs + LEASE_MARGIN_MS;
  const backoff = { baseMs: options.retry?.baseDelayMs ?? 1000, maxMs: options.retry?.maxDelayMs ?? 60_000 };
  const db = database.db as unknown as Kysely<unknown>;
  const counters = { published: 0, failed: 0, deadLettered: 0, batches: 0 };
  let claims = liveClaims.get(database);
  if (!claims) liveClaims.set(database, (claims = new Set()));
  const ownClaims = claims;

  /** PGlite: leases not held by a relay of this process are a dead process's; take them over. */
  async function releaseStaleClaims(): Promise<void> {
    if (database.kind !== 'pglite') return;
    const live = [...ownClaims];
    await sql`update flotilla_outbox set claimed_until = null, claimed_by = null
      where claimed_by is not null
        ${live.length > 0 ? sql`and claimed_by not in (${sql.join(live)})` : sql``}`.execute(db);
  }

  /** Claims the next due rows in one short transaction. */
  async function claim(claimId: string): Promise<OutboxRow[]> {
    const rows = await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(RELAY_LOCK_CLASS)}, hashtext(current_schema()))`.execute(
        trx,
      );
      const { rows: claimed } = await sql<OutboxRow>`
        update flotilla_outbox o
        set claimed_until = now() + ${leaseMs} * interval '1 millisecond', claimed_by = ${claimId}
        where o.sequence in (${dueRows(batchSize)})
        returning o.sequence, o.event_id, o.destination_kind, o.destination, o.envelope, o.trace_context,
          o.attempts, o.sender_faults`.execute(trx);
      return claimed;
    });
    return rows.sort(bySequence);
  }

  /** Runs `publish` under the deadline; never rejects. */
  async function publishWithDeadline(rows: readonly OutboxRow[]): Promise<OutboxPublishResult> {
    const allFailed = (reason: string): OutboxPublishResult => ({
      failedIds: rows.map((r) => r.event_id),
      reasons: Object.fromEntries(rows.map((r) => [r.event_id, reason])),
    });
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<OutboxPublishResult>((resolve) => {
      timer = setTimeout(() => {
        const reason = `publish did not finish within ${publishTimeoutMs} ms (publishTimeoutMs)`;
        controller.abort(new Error(reason));
        resolve(allFailed(reason));
      }, publishTimeoutMs);
    });
    try {
      // Promise.race also handles a rejection that comes after the deadline won.
      return await Promise.race([
        Promise.resolve().then(() => publish(rows.map(toMessage), controller.signal)),
        deadline,
      ]);
    } catch (error) {
      return allFailed(errorMessage(error));
    } finally {
      clearTimeout(timer);
    }
  }

  async function markSent(rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await sql`update flotilla_outbox set sent_at = now(), claimed_until = null, claimed_by = null
      where sequence in (${sql.join(rows.map((r) => r.sequence))})`.execute(db);
  }

  /** Records the failures (only on rows still claimed by `claimId`); returns the rows it parked. */
  async function markFailed(claimId: string, failures: readonly Failure[]): Promise<Set<string>> {
    if (failures.length === 0) return new Set();
    const values = failures.map(
      (f) =>
        sql`(${f.row.sequence}::bigint, ${f.reason}::text, ${f.senderFault ? 1 : 0}::int, ${f.delayMs}::int)`,
    );
    const { rows } = await sql<{ sequence: string; parked: boolean }>`
      update flotilla_outbox o
      set attempts = o.attempts + 1,
        sender_faults = o.sender_faults + f.sender_fault,
        next_attempt_at = now() + f.delay_ms * interval '1 millisecond',
        last_error = f.reason,
        dead_lettered_at = case when o.sender_faults + f.sender_fault >= ${maxSenderFaults} then now() end,
        claimed_until = null, claimed_by = null
      from (values ${sql.join(values)}) as f(sequence, reason, sender_fault, delay_ms)
      where o.sequence = f.sequence and o.claimed_by = ${claimId}
      returning o.sequence, o.dead_lettered_at is not null as parked`.execute(db);
    return new Set(rows.filter((r) => r.parked).map((r) => String(r.sequence)));
  }

  function logFailures(failures: readonly Failure[], parked: ReadonlySet<string>): void {
    for (const { row, reason, senderFault, delayMs } of failures) {
      const fields = {
        eventId: row.event_id,
        type: row.envelope.type,
        destination: row.destination,
        attempts: row.attempts + 1,
        reason,
      };
      if (parked.has(String(row.sequence))) {
        log.error(
          { ...fields, senderFaults: row.sender_faults + 1 },
          `outbox message parked as a dead letter after ${maxSenderFaults} failures as the sender's fault; ` +
            'later messages to its destination go on. `make dlq` lists it; fix the cause, then ' +
            '`make redrive QUEUE=<service>/outbox` sends it again',
        );
      } else {
        log[row.attempts >= 5 ? 'error' : 'warn'](
          { ...fields, senderFault, retryInMs: delayMs },
          'outbox message not published; it will be retried and later messages to the same destination wait for it',
        );
      }
    }
  }

  /** One round: claim, publish, mark. Returns how many rows it claimed. */
  async function runBatch(): Promise<number> {
    const claimId = randomUUID();
    ownClaims.add(claimId);
    try {
      const rows = await claim(claimId);
      if (rows.length === 0) return 0;
      const result = await publishWithDeadline(rows);
      const failedIds = new Set(result.failedIds);
      const senderFaults = new Set(result.senderFaults ?? []);
      const sent = rows.filter((r) => !failedIds.has(r.event_id));
      await markSent(sent);
      // One delay for the whole batch, from its head row's attempts: rows that failed together become due
      // at the same instant (one statement, one `now()`) and are retried together, in order.
      const failedRows = rows.filter((r) => failedIds.has(r.event_id));
      const delayMs = failedRows.length > 0 ? equalJitterDelay(failedRows[0]!.attempts + 1, backoff) : 0;
      const failures: Failure[] = failedRows.map((row) => ({
        row,
        reason: result.reasons?.[row.event_id] ?? 'publish reported the message as failed',
        senderFault: senderFaults.has(row.event_id),
        delayMs,
      }));
      const parked = await markFailed(claimId, failures);
      logFailures(failures, parked);
      if (failures.some((f) => !parked.has(String(f.row.sequence)))) scheduleRetry(delayMs);
      counters.published += sent.length;
      counters.failed += failures.length;
      counters.deadLettered += parked.size;
      counters.batches += 1;
      return rows.length;
    } finally {
      ownClaims.delete(claimId);
    }
  }

  let stopped = false;
  let again = false;
  let recovered = false;
  let inFlight: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryAt = Infinity;

  function scheduleRetry(ms: number) {
    const at = Date.now() + ms;
    if (retryTimer && at >= retryAt) return;
    clearTimeout(retryTimer);
    retryAt = at;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retryAt = Infinity;
      wake();
    }, ms + 5);
    retryTimer.unref();
  }

  /** Milliseconds until the earliest pending row is due or its lease ends (null when none is pending). */
  async function nextDueInMs(): Promise<number | null> {
    const { rows } = await sql<{ ms: string | number | null }>`
      select extract(epoch from (min(greatest(next_attempt_at, coalesce(claimed_until, next_attempt_at))) - now())) * 1000 as ms
      from flotilla_outbox where sent_at is null and dead_lettered_at is null`.execute(db);
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Number(ms);
  }

  async function loop(): Promise<void> {
    try {
      if (!recovered) {
        await releaseStaleClaims();
        recovered = true;
      }
      do {
        again = false;
        if ((await runBatch()) === batchSize) again = true; // there may be more right behind
      } while (again && !stopped);
      if (stopped) return;
      // Going idle: wake up when the earliest row waiting for a retry (or a lease) is due.
      const dueIn = await nextDueInMs();
      if (dueIn !== null) scheduleRetry(Math.max(dueIn, 10));
    } catch (error) {
      // Database unreachable or similar: what was not marked is claimed until its lease ends, then retried.
      log.error({ err: error }, 'outbox relay round failed; retrying at the next poll');
    }
  }

  function wake(): void {
    if (stopped) return;
    if (inFlight) {
      again = true;
      return;
    }
    again = false;
    inFlight = loop().finally(() => {
      inFlight = undefined;
      // A wake that arrived after the last batch query (while scheduling) must not be lost.
      if (again) wake();
    });
  }

  async function anyDue(): Promise<boolean> {
    const { rows } = await sql<{ due: boolean }>`select exists (${dueRows(1)}) as due`.execute(db);
    return rows[0]?.due === true;
  }

  const unsubscribe = onOutboxCommit(database, wake);
  const poll = setInterval(wake, intervalMs);
  poll.unref();
  wake(); // rows left by a previous run (e.g. a crash between commit and publish)

  let stopping: Promise<void> | undefined;
  const relay: OutboxRelay = {
    wake,
    async flush() {
      for (;;) {
        while (inFlight) await inFlight;
        if (stopped) return;
        wake();
        await inFlight;
        if (!(await anyDue())) return;
      }
    },
    stats: () => ({ ...counters }),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        unsubscribe();
        clearInterval(poll);
        clearTimeout(retryTimer);
        await inFlight;
        log.info({ ...counters }, 'outbox relay stopped');
      })();
      return stopping;
    },
  };
  options.lifecycle?.onStop('outbox-relay', () => relay.stop());
  return relay;
}
