import { describe, expect, it } from '@jest/globals';
import {
  BATCH_WINDOW_MS,
  createLogger,
  redactSecrets,
  toXrayTraceId,
  traceFieldsOf,
  WindowBatchedDestination,
} from '../src/index.js';
import { spawnChildService } from './support/child-service.js';
import { memoryLog } from './support/memory-log.js';

describe('log redaction', () => {
  it('redacts auth headers and secret-named fields at any depth, leaving the rest', () => {
    const dest = memoryLog();
    const log = createLogger({ name: 'orders', destination: dest });
    const input = {
      req: {
        headers: {
          Authorization: 'Bearer abc',
          cookie: 'sid=1',
          'set-cookie': ['a=b'],
          'x-api-key': 'k',
          accept: 'json',
        },
      },
      user: {
        name: 'ada',
        password: 'hunter2',
        profile: { settings: { clientSecret: 's3', dbPassword: 'p' } },
      },
      items: [{ token: 't1', sku: 'tea' }],
      tokenCount: 3,
    };
    log.info(input, 'with secrets');
    const line = dest.lines[0] ?? {};
    expect(line).toMatchObject({
      req: {
        headers: {
          Authorization: '[redacted]',
          cookie: '[redacted]',
          'set-cookie': '[redacted]',
          'x-api-key': '[redacted]',
          accept: 'json',
        },
      },
      user: {
        name: 'ada',
        password: '[redacted]',
        profile: { settings: { clientSecret: '[redacted]', dbPassword: '[redacted]' } },
      },
      items: [{ token: '[redacted]', sku: 'tea' }],
      tokenCount: 3,
      service: 'orders',
      msg: 'with secrets',
    });
    for (const secret of ['hunter2', 'Bearer abc', 'sid=1', 's3', 't1'])
      expect(JSON.stringify(line)).not.toContain(secret);
    // The caller's object is untouched.
    expect(input.user.password).toBe('hunter2');
    expect(input.req.headers.Authorization).toBe('Bearer abc');
  });

  it('returns objects without secrets as they are (no copy)', () => {
    const clean = { a: 1, b: { c: [1, 2, { d: 'x' }] } };
    expect(redactSecrets(clean)).toBe(clean);
  });
});

describe('trace ids in logs', () => {
  it('formats the X-Ray trace id from a W3C trace id', () => {
    expect(toXrayTraceId('6745a1b20123456789abcdef01234567')).toBe('1-6745a1b2-0123456789abcdef01234567');
    expect(
      traceFieldsOf({
        traceId: '6745a1b20123456789abcdef01234567',
        spanId: '53995c3f42cd8ad8',
        traceFlags: 1,
      }),
    ).toEqual({
      trace_id: '6745a1b20123456789abcdef01234567',
      span_id: '53995c3f42cd8ad8',
      xray_trace_id: '1-6745a1b2-0123456789abcdef01234567',
    });
    expect(traceFieldsOf({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 })).toBeUndefined();
  });

  it('omits trace fields when no span is active', () => {
    const dest = memoryLog();
    createLogger({ name: 'orders', destination: dest }).info('no span');
    expect(dest.lines[0]).not.toHaveProperty('trace_id');
  });
});

describe('log time', () => {
  it('stamps each line with the ISO time of its own millisecond', () => {
    const dest = memoryLog();
    const log = createLogger({ name: 'orders', destination: dest });
    const before = Date.now();
    log.info('first');
    // The second line is logged in a later millisecond than the first (spin: at most ~1 ms).
    const later = Date.now() + 1;
    while (Date.now() < later);
    log.info('second');
    const after = Date.now();
    const [first, second] = dest.lines.map((l) => String(l.time));
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const [t1, t2] = [Date.parse(first ?? ''), Date.parse(second ?? '')];
    expect(t1).toBeGreaterThanOrEqual(before);
    // Formatted once per millisecond, but never reused for a later one.
    expect(t2).toBeGreaterThanOrEqual(later);
    expect(t2).toBeLessThanOrEqual(after);
  });
});

describe('the default log destination', () => {
  /** A destination that records each write it gets. */
  const recorder = () => {
    const writes: string[] = [];
    return { writes, write: (chunk: string) => void writes.push(chunk) };
  };

  it('writes lines logged within the window in one write, in order', async () => {
    const out = recorder();
    const log = createLogger({ name: 'orders', destination: new WindowBatchedDestination(out) });
    log.info('first');
    log.info('second');
    log.info('third');
    expect(out.writes).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, BATCH_WINDOW_MS * 5));
    expect(out.writes).toHaveLength(1);
    const msgs = (out.writes[0] ?? '')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toEqual(['first', 'second', 'third']);
  });

  it('writes at once when the buffer grows past 64 KiB, and on flush()', () => {
    const out = recorder();
    const dest = new WindowBatchedDestination(out);
    const log = createLogger({ name: 'orders', destination: dest });
    log.info({ blob: 'x'.repeat(70 * 1024) }, 'big');
    expect(out.writes).toHaveLength(1);
    log.info('small');
    expect(out.writes).toHaveLength(1);
    let flushed = false;
    log.flush(() => (flushed = true));
    expect(flushed).toBe(true);
    expect(out.writes).toHaveLength(2);
    expect(out.writes[1]).toContain('"msg":"small"');
  });

  it('writes every buffered line, in order, when the process exits at once', async () => {
    const child = spawnChildService('log-burst.ts', { LOG_BURST_LINES: '3000' });
    const exit = await child.exited;
    expect(exit.code).toBe(3);
    const burst = child.logs.filter((l) => l.msg === 'burst line').map((l) => l.i);
    expect(burst).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(child.otherOutput).toEqual([]);
  });
});
