import { describe, expect, it } from '@jest/globals';
import { XRayIdGenerator } from '../src/telemetry/xray-ids.js';

describe('X-Ray trace and span ids', () => {
  const ids = new XRayIdGenerator();

  it('starts each trace id with the current epoch seconds, then 24 random hex digits', () => {
    const before = Math.floor(Date.now() / 1000);
    const traceId = ids.generateTraceId();
    const after = Math.floor(Date.now() / 1000);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const seconds = parseInt(traceId.slice(0, 8), 16);
    expect(seconds).toBeGreaterThanOrEqual(before);
    expect(seconds).toBeLessThanOrEqual(after);
  });

  it('makes distinct, well-formed ids across many refills of the random pool', () => {
    // 20000 trace ids (12 random bytes) and span ids (8) use the 4 KiB pool ~100 times over.
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      traces.add(ids.generateTraceId());
      spans.add(ids.generateSpanId());
    }
    expect(traces.size).toBe(20_000);
    expect(spans.size).toBe(20_000);
    for (const span of spans) expect(span).toMatch(/^[0-9a-f]{16}$/);
    expect(spans.has('0'.repeat(16))).toBe(false);
    // Every hex digit turns up in every position of the random part: no position is stuck.
    for (let position = 8; position < 32; position++) {
      const digits = new Set([...traces].map((t) => t[position]));
      expect(digits.size).toBe(16);
    }
    for (let position = 0; position < 16; position++) {
      const digits = new Set([...spans].map((s) => s[position]));
      expect(digits.size).toBe(16);
    }
  });
});
