import { describe, expect, it } from '@jest/globals';
import { randomHex, randomUuid } from '../src/random-text.js';

describe('random ids as text', () => {
  it('makes version 4 UUIDs in canonical form, distinct across many refills of the pool', () => {
    // 20000 UUIDs take 16 bytes each from the 4 KiB pool: ~80 refills.
    const uuids = new Set<string>();
    for (let i = 0; i < 20_000; i++) uuids.add(randomUuid());
    expect(uuids.size).toBe(20_000);
    const canonical = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const uuid of uuids) expect(uuid).toMatch(canonical);
    // Every random position takes every hex digit (the version and variant ones excepted): none is stuck.
    for (let position = 0; position < 36; position++) {
      if ([8, 13, 14, 18, 19, 23].includes(position)) continue;
      expect(new Set([...uuids].map((u) => u[position])).size).toBe(16);
    }
  });

  it('writes n random bytes as 2n lowercase hex digits, for every size an id uses', () => {
    for (let bytes = 1; bytes <= 18; bytes++) {
      const made = Array.from({ length: 200 }, () => randomHex(bytes));
      for (const hex of made) expect(hex).toMatch(new RegExp(`^[0-9a-f]{${2 * bytes}}$`));
      // Not the same bytes again and again.
      expect(new Set(made).size).toBeGreaterThan(bytes === 1 ? 100 : 195);
    }
    // Longer would not fit the scratch text: refused, never cut short.
    expect(() => randomHex(19)).toThrow(RangeError);
  });
});
