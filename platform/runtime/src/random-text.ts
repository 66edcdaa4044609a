import { randomFillSync } from 'node:crypto';

/**
 * Random ids as text, made on every request (a trace id, a span id and, when the caller sent none, a request
 * id), so they are made cheaply: the bytes come from a pool that `crypto.randomFillSync` refills once per
 * {@link POOL_BYTES} bytes (~100 requests), and each id is written into a scratch buffer and read out as one
 * string. Built by concatenating two hex digits at a time, an id left a string per step behind it, and
 * `crypto.randomUUID` formats the same way: ~900 of the ~15.5k bytes a request allocated in a heap profile
 * of the benchmark's kit (GET at 3000 req/s), which the young-generation collections then pay for.
 */

/** Random bytes handed out by {@link takeRandom}; refilled when used up. */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let used = POOL_BYTES;

/** The offset of `bytes` fresh random bytes in {@link pool}. */
function takeRandom(bytes: number): number {
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += bytes;
  return at;
}

/** ASCII codes of `0`-`9a`-`f`. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** The text of an id under construction: 36 characters fit every id made here. */
const scratch = Buffer.alloc(36);

/** Writes `count` pool bytes from `from` as hex into {@link scratch} at `to`; returns where it stopped. */
function writeHex(from: number, count: number, to: number): number {
  for (let i = from, end = from + count; i < end; i++) {
    const byte = pool[i] as number;
    scratch[to++] = HEX_DIGITS[byte >> 4] as number;
    scratch[to++] = HEX_DIGITS[byte & 15] as number;
  }
  return to;
}

/** `bytes` random bytes as lowercase hex (at most 18 bytes: the scratch buffer's 36 characters). */
export function randomHex(bytes: number): string {
  if (bytes > scratch.length / 2) throw new RangeError(`randomHex makes at most ${scratch.length / 2} bytes`);
  return scratch.toString('latin1', 0, writeHex(takeRandom(bytes), bytes, 0));
}

const DASH = 0x2d;
/** Bytes per dash-separated group of a UUID's text (8-4-4-4-12 hex digits). */
const UUID_GROUPS = [4, 2, 2, 2, 6];

/**
 * A random (version 4) UUID in its canonical lowercase form, as `crypto.randomUUID` makes one.
 * @see https://www.rfc-editor.org/rfc/rfc9562#name-uuid-version-4
 */
export function randomUuid(): string {
  let from = takeRandom(16);
  pool[from + 6] = ((pool[from + 6] as number) & 0x0f) | 0x40; // version 4
  pool[from + 8] = ((pool[from + 8] as number) & 0x3f) | 0x80; // variant 10xx
  let to = 0;
  for (let g = 0; g < UUID_GROUPS.length; g++) {
    const group = UUID_GROUPS[g] as number;
    if (g > 0) scratch[to++] = DASH;
    to = writeHex(from, group, to);
    from += group;
  }
  return scratch.toString('latin1', 0, to);
}
