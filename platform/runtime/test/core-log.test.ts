import { describe, expect, it } from '@jest/globals';
import { createLogger, redactSecrets, toXrayTraceId, traceFieldsOf } from '../src/index.js';
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
