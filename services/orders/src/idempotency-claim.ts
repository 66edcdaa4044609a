/**
 * Claims of Idempotency-Keys: a row in `idempotency_claims` says "one request is placing the order of this
 * key". Requests with one key share one order id and so one reservation in inventory; only the request
 * holding the claim may reserve, store the order or release the stock, so no request gives back stock that
 * another one's order holds. The claim is deleted in the transaction that stores the order, or after the
 * stock was given back when storing failed.
 */
import { uuidv7, type Database } from '@flotilla/runtime';
import { sql, type Transaction } from 'kysely';
import { findOrder, type Executor, type OrderRow } from './order.js';
import type { OrdersTables } from './schema.js';

/**
 * Seconds after which a claim is taken over by a request with the same key and body. A claim outlives its
 * request only when that request died between claiming and storing (a crash, a lost database connection);
 * without a lease its key would answer 409 forever. Placing an order takes far less (inventory's calls time
 * out after 1.5 s, with two retries), so a live claimant is not overtaken.
 */
const CLAIM_LEASE_SECONDS = 30;

/**
 * How long after claiming a claimant may still release its stock. A release started later might still be in
 * flight (timeouts, retries) when the lease ends and a retry takes over and reserves: that retry's order would
 * lose its stock. Past this, the stock stays reserved and the retry that takes over gets it as its own.
 */
const RELEASE_WITHIN_MS = (CLAIM_LEASE_SECONDS * 1000) / 2;

/** A claim this request holds. */
export interface Claim {
  readonly key: string;
  /** SHA-256 of this request's body, as in the claim row (and then in the order's row). */
  readonly requestHash: string;
  /** This request's id in the claim row; a take-over replaces it. */
  readonly claimant: string;
  /** `performance.now()` until which this request may release its stock (see {@link RELEASE_WITHIN_MS}). */
  readonly releaseBy: number;
}

export type ClaimOutcome =
  /** This request holds the key (`tookOver`: from a request whose lease ended). */
  | { readonly kind: 'claimed'; readonly claim: Claim; readonly tookOver: boolean }
  /** The order of the key is stored: answer with it. */
  | { readonly kind: 'stored'; readonly order: OrderRow }
  /** Another request holds the key and is placing its order; `requestHash` is that request's body hash. */
  | { readonly kind: 'held'; readonly requestHash: string };

interface Wanted {
  readonly key: string;
  readonly orderId: string;
  readonly requestHash: string;
}

/** Claim attempts before a key whose claims come and go (each holder failing at once) answers as held. */
const CLAIM_ATTEMPTS = 3;

/** Claims `key` for this request, in a short transaction of its own, before anything touches stock. */
export async function claimKey(database: Database<OrdersTables>, wanted: Wanted): Promise<ClaimOutcome> {
  for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
    // Counted from before the transaction: the lease starts at its now(), which is no earlier.
    const claim: Claim = {
      key: wanted.key,
      requestHash: wanted.requestHash,
      claimant: uuidv7(),
      releaseBy: performance.now() + RELEASE_WITHIN_MS,
    };
    const outcome = await database.transaction((trx) => tryClaim(trx, wanted.orderId, claim));
    // None: the holder gave the key up between two statements (its store failed); claim it again.
    if (outcome) return outcome;
  }
  return { kind: 'held', requestHash: wanted.requestHash };
}

async function tryClaim(
  trx: Transaction<OrdersTables>,
  orderId: string,
  claim: Claim,
): Promise<ClaimOutcome | undefined> {
  const { key, requestHash, claimant } = claim;
  const mine = await trx
    .insertInto('idempotency_claims')
    .values({ key, order_id: orderId, request_hash: requestHash, claimant })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  // Looked up after the insert: an insert that waited for the holder storing the order (which deletes the
  // claim) succeeds once it commits, and this later statement then sees the order.
  const order = await findOrder(trx, orderId);
  if (order) {
    if (mine) await unclaim(trx, claim);
    return { kind: 'stored', order };
  }
  if (mine) return { kind: 'claimed', claim, tookOver: false };
  const tookOver = await trx
    .updateTable('idempotency_claims')
    .set({ claimant, claimed_at: sql`now()` })
    .where('key', '=', key)
    .where('request_hash', '=', requestHash)
    .where('claimed_at', '<', sql<Date>`now() - make_interval(secs => ${CLAIM_LEASE_SECONDS})`)
    .returning('key')
    .executeTakeFirst();
  if (tookOver) return { kind: 'claimed', claim, tookOver: true };
  const held = await trx
    .selectFrom('idempotency_claims')
    .select('request_hash')
    .where('key', '=', key)
    .executeTakeFirst();
  return held && { kind: 'held', requestHash: held.request_hash };
}

/** Deletes the claim if this request still holds it; false when another request took it over. */
export async function unclaim(db: Executor, claim: Claim): Promise<boolean> {
  const deleted = await db
    .deleteFrom('idempotency_claims')
    .where('key', '=', claim.key)
    .where('claimant', '=', claim.claimant)
    .returning('key')
    .executeTakeFirst();
  return deleted !== undefined;
}

/** Whether the claimant may still release its stock (see {@link RELEASE_WITHIN_MS}). */
export function mayRelease(claim: Claim): boolean {
  return performance.now() < claim.releaseBy;
}
