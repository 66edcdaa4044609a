import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

/**
 * Trace and span ids in X-Ray's format: a trace id's first 4 bytes are the start time in epoch seconds
 * (X-Ray rejects segments whose trace id time is far from now), the other 12 bytes and the span id are
 * random. Written here rather than taken from `@opentelemetry/id-generator-aws-xray`: its newest release
 * (2.1.0) still depends on the 2.x trace SDK, whose peer range excludes `@opentelemetry/api` 1.10, so it
 * would put a second, incompatible SDK line into every image.
 *
 * Every request gets a trace id and a span id, sampled or not (its log line carries them), so they are
 * made cheaply: random bytes come from a pool refilled by `crypto.randomFillSync` (one call per
 * {@link POOL_BYTES} bytes, ~200 requests) and are written as hex through a table. The earlier
 * `Math.random().toString(16)` per 32-bit word cost ~2.2 µs a request (a trace id and a span id; 2.47 against
 * 0.29 µs in an interleaved loop on the benchmark machine): a number's base-16 formatting is slow in V8.
 * @see https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids
 */
export class XRayIdGenerator implements IdGenerator {
  #second = -1;
  #secondHex = '';

  generateTraceId(): string {
    const epochSeconds = Math.floor(Date.now() / 1000);
    if (epochSeconds !== this.#second) {
      this.#second = epochSeconds;
      this.#secondHex = epochSeconds.toString(16).padStart(8, '0');
    }
    return this.#secondHex + randomHex(12);
  }

  generateSpanId(): string {
    let id = randomHex(8);
    // An all-zero span id is invalid in W3C trace context; one in 2^64, but never emit it.
    while (id === INVALID_SPAN_ID) id = randomHex(8);
    return id;
  }
}

const INVALID_SPAN_ID = '0000000000000000';

/** Random bytes taken by {@link randomHex}; refilled when used up. */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let used = POOL_BYTES;

/** `00` to `ff`, by byte value. */
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** `bytes` random bytes as lowercase hex. */
export function randomHex(bytes: number): string {
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  let hex = '';
  for (let i = used, end = used + bytes; i < end; i++) hex += HEX_BYTE[pool[i] as number] as string;
  used += bytes;
  return hex;
}
