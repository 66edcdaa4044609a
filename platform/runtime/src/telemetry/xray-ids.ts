import type { IdGenerator } from '@opentelemetry/sdk-trace';
import { randomHex } from '../random-text.js';

/**
 * Trace and span ids in X-Ray's format: a trace id's first 4 bytes are the start time in epoch seconds
 * (X-Ray rejects segments whose trace id time is far from now), the other 12 bytes and the span id are
 * random. Written here rather than taken from `@opentelemetry/id-generator-aws-xray`: its newest release
 * (2.1.0) still depends on the 2.x trace SDK, whose peer range excludes `@opentelemetry/api` 1.10, so it
 * would put a second, incompatible SDK line into every image.
 *
 * Every request gets a trace id and a span id, sampled or not (its log line carries them), so they are
 * made cheaply, from a pool of random bytes (../random-text.ts). The earlier
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
