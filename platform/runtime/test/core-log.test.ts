import { describe, expect, it, jest } from '@jest/globals';
import { pino } from 'pino';
import {
  BATCH_WINDOW_MS,
  createLogger,
  redactSecrets,
  toXrayTraceId,
  traceFieldsOf,
  WindowBatchedDestination,
} from '../src/index.js';
import { jsonString } from '../src/log/json-text.js';
import { infoLineWriter } from '../src/log/logger.js';
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

describe('log time at millisecond and second boundaries', () => {
  it('writes the time of every line as toISOString would', () => {
    const times = [
      '1999-12-31T23:59:59.998Z',
      '1999-12-31T23:59:59.999Z',
      '2000-01-01T00:00:00.000Z',
      '2000-01-01T00:00:00.005Z',
      '2000-01-01T00:00:00.050Z',
      '2000-01-01T00:00:01.050Z',
      '2000-01-01T00:00:01.050Z',
      '2031-07-04T12:34:56.789Z',
    ];
    jest.useFakeTimers({ now: Date.parse(times[0] as string) });
    try {
      const dest = memoryLog();
      const log = createLogger({ name: 'orders', destination: dest });
      for (const time of times) {
        jest.setSystemTime(Date.parse(time));
        log.info('tick');
      }
      expect(dest.lines.map((l) => l.time)).toEqual(times);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('lines written as text (the request line)', () => {
  const raw = () => {
    const lines: string[] = [];
    return { lines, write: (line: string) => void lines.push(line) };
  };
  /** Fields as `,"key":value` JSON, encoded by JSON.stringify: the reference the writer's caller follows. */
  const asText = (fields: Record<string, unknown>) =>
    Object.entries(fields)
      .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join('');

  it('writes exactly the line log.info writes for the same fields', () => {
    jest.useFakeTimers({ now: Date.parse('2026-03-04T05:06:07.089Z') });
    try {
      const out = raw();
      const log = createLogger({ name: 'orders', base: { version: '1.2.3' }, destination: out });
      const fields = {
        request_id: 'r-"quoted"\\back',
        trace_id: '6745a1b20123456789abcdef01234567',
        method: 'GET',
        route: null,
        path: '/items/\u0001ü€',
        status: 404,
        duration_ms: 1.125,
      };
      log.info(fields, 'request');
      const write = infoLineWriter(log);
      expect(write).toBeDefined();
      write?.(asText(fields), 'request');
      expect(out.lines).toHaveLength(2);
      expect(out.lines[1]).toBe(out.lines[0]);
      expect(JSON.parse(out.lines[1] ?? '')).toEqual({
        level: 'info',
        time: '2026-03-04T05:06:07.089Z',
        service: 'orders',
        version: '1.2.3',
        ...fields,
        msg: 'request',
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it("is only offered for the kit's own loggers, not for a child, a plain pino logger or a multistream", () => {
    const log = createLogger({ name: 'orders', destination: raw() });
    expect(infoLineWriter(log.child({ module: 'x' }))).toBeUndefined();
    expect(infoLineWriter(pino(raw()))).toBeUndefined();
    // A multistream picks streams by each line's level, which only pino's own write tells it.
    const multi = createLogger({ name: 'orders', destination: pino.multistream([{ stream: raw() }]) });
    expect(infoLineWriter(multi)).toBeUndefined();
  });

  it('quotes text as JSON.stringify does', () => {
    for (const text of [
      '',
      'plain',
      'a"b',
      'a\\b',
      '\n\t\u0000\u001f',
      'ü€😀',
      '\ud800',
      'x\udfff',
      '\u2028',
    ])
      expect(jsonString(text)).toBe(JSON.stringify(text));
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
