import type { IdGenerator } from '@opentelemetry/sdk-trace';

/**
 * Trace and span ids in X-Ray's format: a trace id's first 4 bytes are the start time in epoch seconds
 * (X-Ray rejects segments whose trace id time is far from now), the other 12 bytes and the span id are
 * random. Written here rather than taken from `@opentelemetry/id-generator-aws-xray`: its newest release
 * (2.1.0) still depends on the 2.x trace SDK, whose peer range excludes `@opentelemetry/api` 1.10, so it
 * would put a second, incompatible SDK line into every image.
 *
 * Ids only need to be unique, not unpredictable, so `Math.random` is used, as the SDK's own
 * `RandomIdGenerator` does: `crypto.randomBytes` would cost a syscall's worth per span.
 * @see https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids
 */
export class XRayIdGenerator implements IdGenerator {
  generateTraceId(): string {
    const epochSeconds = Math.floor(Date.now() / 1000);
    return epochSeconds.toString(16).padStart(8, '0') + randomHex(3);
  }

  generateSpanId(): string {
    let id = randomHex(2);
    // An all-zero span id is invalid in W3C trace context; one in 2^64, but never emit it.
    while (id === INVALID_SPAN_ID) id = randomHex(2);
    return id;
  }
}

const INVALID_SPAN_ID = '0000000000000000';

/** `words` random 32-bit words as lowercase hex, 8 characters each. */
function randomHex(words: number): string {
  let hex = '';
  for (let i = 0; i < words; i++) hex += ((Math.random() * 2 ** 32) >>> 0).toString(16).padStart(8, '0');
  return hex;
}
