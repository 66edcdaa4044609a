/**
 * Claims of Idempotency-Keys: a row in `idempotency_claims` says "one request is placing the order of this
 * key". Requests with one key share one order id; only the request holding the claim may store the order
 * (deleting its claim in the same transaction), so a second request with the key gets 409 while the first is
 * at work, and the stored order afterwards. Each request reserves stock under a reservation id of its own
 * (see `open-reservations.ts`), so no request can give back stock another one's order holds.
 */
import { uuidv7, type Database } from '@flotilla/runtime';
import { sql, type Transaction } from 'kysely';
import { ABANDONED_AFTER_SECONDS } from './open-reservations.js';
import { findOrder, type Executor, type OrderRow } from './order.js';
import type { OrdersTables } from './schema.js';

/**
 * Seconds after which a claim is taken over by a request with the same key and body. A claim outlives its
 * request only when that request died between claiming and storing (a crash, a lost database connection);
 * without a lease its key would answer 409 forever.
 */
const CLAIM_LEASE_SECONDS = ABANDONED_AFTER_SECONDS;

/** A claim this request holds. */
export interface Claim {
  readonly key: string;
  /** SHA-256 of this request's body, as in the claim row (and then in the order's row). */
  readonly requestHash: string;
  /** This request's id in the claim row; a take-over replaces it. */
  readonly claimant: string;
}

export type ClaimOutcome =
  /** This request holds the key (`tookOver`: from a request that failed, or whose lease ended). */
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
    const claim: Claim = { key: wanted.key, requestHash: wanted.requestHash, claimant: uuidv7() };
    const outcome = await database.transaction((trx) => tryClaim(trx, wanted.orderId, claim));
    // None: the holder gave the key up between two statements (it failed before storing); claim it again.
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

/**
 * Ends the claim of a request that failed to store its order, keeping the key bound to its body: a retry with
 * that body claims it at once, another body gets the 422 of a reused key (as it would once the order is
 * stored). Nothing when another request took the claim over.
 */
export async function lapse(db: Executor, claim: Claim): Promise<void> {
  await db
    .updateTable('idempotency_claims')
    .set({ claimed_at: sql<Date>`'-infinity'::timestamptz` })
    .where('key', '=', claim.key)
    .where('claimant', '=', claim.claimant)
    .execute();
}
