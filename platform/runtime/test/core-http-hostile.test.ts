/**
 * Requests a careless or hostile client sends: each one is the client's mistake, so it gets its 4xx
 * problem+json, never a 500, and the service logs no error for it (issue 11: defect 2, what the database
 * cannot store; defect 9, errors carrying a 4xx status; and body fields no schema declares).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { createService, validate, type Service } from '../src/index.js';
import { unstorableStrings } from '../src/http/storable-text.js';
import { memoryLog } from './support/memory-log.js';

let svc: Service;
let url: string;
const log = memoryLog();

const Order = z.object({
  sku: z.string().min(1),
  items: z.array(z.object({ quantity: z.number().int().positive() })).optional(),
});

beforeAll(async () => {
  svc = createService({
    name: 'hostile-test',
    env: { SERVICE_NAME: 'hostile-test', PORT: '0', FLOTILLA_ENVIRONMENT: 'test', OTEL_SDK_DISABLED: 'true' },
    manageProcess: false,
    bodyLimit: '1kb',
    logDestination: log,
  });
  // Echo routes: what reached the handler is what the test sees.
  svc.router.get('/items/:id', (req, res) => {
    res.json({ id: req.params.id, query: req.query });
  });
  svc.router.post('/raw', (req, res) => {
    res.json({ body: req.body as unknown });
  });
  svc.router.post('/orders', validate({ body: Order }), (req, res) => {
    res.status(201).json(req.body);
  });
  svc.router.post('/lenient', validate({ body: Order, unknownBodyFields: 'strip' }), (req, res) => {
    res.status(201).json(req.body);
  });
  svc.router.post(
    '/open',
    validate({
      body: z.object({
        sku: z.string(),
        tags: z.record(z.string(), z.string()),
        extra: z.looseObject({ a: z.number() }),
        anything: z.unknown(),
        kind: z.union([
          z.object({ type: z.literal('a'), a: z.number() }),
          z.object({ type: z.literal('b') }),
        ]),
      }),
    }),
    (req, res) => {
      res.status(201).json(req.body);
    },
  );
  svc.router.get('/dependency-404', () => {
    // What an HTTP library throws for a call this service made: its 404 is not the caller's fault.
    throw Object.assign(new Error('GET https://partner.example/x answered 404'), { status: 404 });
  });
  ({ url } = await svc.start());
});

afterAll(async () => {
  await svc.stop();
});

// Each test looks at the lines logged while it ran.
beforeEach(() => {
  log.lines.splice(0);
});

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly problem: Record<string, unknown>;
}

/** One request exactly as written (fetch would re-encode the path), its status and parsed body. */
function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          problem: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
const JSON_TYPE = { 'content-type': 'application/json' };
const post = (path: string, body: string | Buffer, headers: Record<string, string> = JSON_TYPE) =>
  send('POST', path, headers, body);

/** No error (or worse) was logged: a client's mistake is not the service's. */
function expectNoErrorLogged(): void {
  const errors = log.lines.filter((l) => l.level === 'error' || l.level === 'fatal' || l.level === 50);
  expect(errors.map((l) => `${String(l.msg)} ${JSON.stringify(l.err ?? {})}`)).toEqual([]);
}

function fieldPaths(answer: Answer): string[] {
  return ((answer.problem.errors ?? []) as { location: string; path: string }[]).map(
    (e) => `${e.location}:${e.path}`,
  );
}

describe('errors carrying a 4xx status become their problem (defect 9)', () => {
  it.each([
    ['a non-hex escape', '/items/%zz'],
    ['a truncated escape', '/items/%E0%A4%A'],
    ['a bare percent sign', '/items/%'],
    ['an encoded lone surrogate', '/items/%ED%A0%80'],
    ['an overlong encoding of NUL', '/items/%C0%80'],
  ])('a path with %s is a 400 naming the path', async (_name, path) => {
    const answer = await send('GET', path);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.problem).toMatchObject({ type: 'urn:flotilla:problem:malformed-request', status: 400 });
    expect(answer.problem.detail).toContain(path);
    expectNoErrorLogged();
  });

  it.each([
    ['gzip', 'gzip'],
    ['deflate', 'deflate'],
    ['br', 'br'],
  ])('a body that is not the %s its Content-Encoding says is a 400', async (_name, encoding) => {
    const answer = await post('/orders', '{"sku":"a"}', { ...JSON_TYPE, 'content-encoding': encoding });
    expect(answer.status).toBe(400);
    expect(answer.problem).toMatchObject({ type: 'urn:flotilla:problem:malformed-request', status: 400 });
    expect(answer.problem.detail).toContain(`Content-Encoding (${encoding})`);
    expectNoErrorLogged();
  });

  it('a truncated gzip body is a 400; whole gzip, deflate and br bodies are read', async () => {
    const body = '{"sku":"a"}';
    const truncated = await post('/orders', gzipSync(body).subarray(0, 12), {
      ...JSON_TYPE,
      'content-encoding': 'gzip',
    });
    expect(truncated.status).toBe(400);
    for (const [encoding, bytes] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
      ['br', brotliCompressSync(body)],
    ] as const) {
      const ok = await post('/orders', bytes, { ...JSON_TYPE, 'content-encoding': encoding });
      expect({ encoding, status: ok.status }).toEqual({ encoding, status: 201 });
    }
    expectNoErrorLogged();
  });

  it('a body too large, also once decompressed, is a 413 saying the limit', async () => {
    const large = await post('/orders', JSON.stringify({ sku: 'x'.repeat(2000) }));
    expect(large.status).toBe(413);
    expect(large.problem.detail).toBe(
      'The request body is 2010 bytes; the limit is 1024 bytes. Send a smaller body.',
    );
    const bomb = await post('/orders', gzipSync(JSON.stringify({ sku: 'x'.repeat(100_000) })), {
      ...JSON_TYPE,
      'content-encoding': 'gzip',
    });
    expect(bomb.status).toBe(413);
    expect(bomb.problem.detail).toContain('more than 1024 bytes');
    expectNoErrorLogged();
  });

  it('a charset or content encoding the kit cannot read is a 415', async () => {
    const latin1 = await post('/orders', '{"sku":"a"}', {
      'content-type': 'application/json; charset=latin1',
    });
    expect(latin1.status).toBe(415);
    expect(latin1.problem.detail).toContain('UTF-8');
    const compress = await post('/orders', '{"sku":"a"}', { ...JSON_TYPE, 'content-encoding': 'compress' });
    expect(compress.status).toBe(415);
    expect(compress.problem.detail).toContain('"compress"');
    expectNoErrorLogged();
  });

  it('a body that is not valid UTF-8 is a 400, not quietly turned into U+FFFD', async () => {
    const bytes = Buffer.concat([Buffer.from('{"sku":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const answer = await post('/raw', bytes);
    expect(answer.status).toBe(400);
    expect(answer.problem).toMatchObject({ type: 'urn:flotilla:problem:malformed-json' });
    expect(answer.problem.detail).toContain('UTF-8');
    expect((await post('/raw', Buffer.from('{"sku":"é😀"}'))).problem).toEqual({ body: { sku: 'é😀' } });
    expectNoErrorLogged();
  });

  it("keeps a 4xx status nobody marked as the client's a 500: a dependency's 404 is not the caller's fault", async () => {
    const answer = await send('GET', '/dependency-404');
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.problem)).not.toContain('partner.example');
    const logged = log.lines.filter((l) => l.msg === 'unhandled error in request handler');
    expect(logged).toHaveLength(1);
  });
});

describe('what PostgreSQL cannot store is refused at the door (defect 2)', () => {
  it.each([
    ['a NUL in a value', { sku: 'a\u0000b' }, ['body:sku']],
    ['a lone high surrogate', { sku: 'a\ud800' }, ['body:sku']],
    [
      'a lone low surrogate deep down',
      { sku: 'a', items: [{ n: ['ok', '\udc00'] }] },
      ['body:items[0].n[1]'],
    ],
    ['a NUL in a key', { sku: 'a', ['k\u0000']: 1 }, ['body:k\u0000']],
    ['two of them', { sku: '\u0000', other: '\ud800x' }, ['body:sku', 'body:other']],
  ])('%s in a JSON body is a 400 naming the field, on any route', async (_name, body, paths) => {
    for (const route of ['/raw', '/orders']) {
      const answer = await post(route, JSON.stringify(body));
      expect({ route, status: answer.status, paths: fieldPaths(answer) }).toEqual({
        route,
        status: 400,
        paths,
      });
      expect(answer.problem.type).toBe('urn:flotilla:problem:validation-failed');
    }
    expectNoErrorLogged();
  });

  it('finds such a string 100000 levels deep without exhausting the stack', () => {
    let deep: unknown = ['\ud800'];
    for (let i = 0; i < 100_000; i++) deep = i % 2 === 0 ? [deep] : { k: deep };
    const [path] = unstorableStrings(deep);
    expect(path?.endsWith('[0].k[0][0]')).toBe(true);
    expect(unstorableStrings({ a: ['x', { b: 'y' }] })).toEqual([]);
  });

  it('a lone surrogate written raw in a UTF-16 body is a 400 too (only UTF-8 needs an escape for one)', async () => {
    // UTF-16LE can carry a lone surrogate as two plain bytes, without any `\u` escape in the text.
    const body = Buffer.concat([
      Buffer.from('{"sku":"a', 'utf16le'),
      Buffer.from([0x00, 0xd8]),
      Buffer.from('"}', 'utf16le'),
    ]);
    const answer = await post('/raw', body, { 'content-type': 'application/json; charset=utf-16le' });
    expect({ status: answer.status, paths: fieldPaths(answer) }).toEqual({
      status: 400,
      paths: ['body:sku'],
    });
  });

  it('an escaped backslash before "u0000" is text, not an escape: it passes', async () => {
    expect((await post('/raw', JSON.stringify({ sku: 'C:\\u0000' }))).problem).toEqual({
      body: { sku: 'C:\\u0000' },
    });
  });

  it('a surrogate pair (a character outside the BMP) passes', async () => {
    expect((await post('/raw', JSON.stringify({ sku: '\ud83d\ude00' }))).problem).toEqual({
      body: { sku: '😀' },
    });
  });

  it('a percent-encoded NUL in the path or the query is a 400, on any route', async () => {
    const inPath = await send('GET', '/items/a%00b');
    expect({ status: inPath.status, paths: fieldPaths(inPath) }).toEqual({ status: 400, paths: ['params:'] });
    const inQuery = await send('GET', '/items/a?q=%00');
    expect({ status: inQuery.status, paths: fieldPaths(inQuery) }).toEqual({
      status: 400,
      paths: ['query:'],
    });
    // %2500 is the text "%00", not a NUL.
    expect((await send('GET', '/items/%2500')).problem).toEqual({ id: '%00', query: {} });
    expectNoErrorLogged();
  });
});

describe('body fields no schema declares', () => {
  const order = { sku: 'SKU-1', items: [{ quantity: 1 }] };

  it('are a 400 naming each one, at any depth', async () => {
    const answer = await post(
      '/orders',
      JSON.stringify({ ...order, status: 'PAID', items: [{ quantity: 1, priceCents: 0 }] }),
    );
    expect(answer.status).toBe(400);
    expect(fieldPaths(answer)).toEqual(['body:status', 'body:items[0].priceCents']);
    expect(answer.problem.detail).toContain('body.status: unknown field');
  });

  it('include __proto__ and constructor, which never reach the prototype', async () => {
    const proto = await post('/orders', '{"sku":"a","__proto__":{"admin":true}}');
    expect(fieldPaths(proto)).toEqual(['body:__proto__']);
    const ctor = await post(
      '/orders',
      JSON.stringify({ sku: 'a', constructor: { prototype: { admin: true } } }),
    );
    expect(fieldPaths(ctor)).toEqual(['body:constructor']);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('are dropped silently on a route that opts out with unknownBodyFields: strip', async () => {
    const answer = await post('/lenient', JSON.stringify({ ...order, status: 'PAID' }));
    expect(answer.status).toBe(201);
    expect(answer.problem).toEqual(order);
  });

  it('are kept where the schema keeps them (records, loose objects, unknown), and checked in unions', async () => {
    const body = {
      sku: 'a',
      tags: { colour: 'red' },
      extra: { a: 1, b: 2 },
      anything: { deep: { x: 1 } },
      kind: { type: 'b' },
    };
    const ok = await post('/open', JSON.stringify(body));
    expect({ status: ok.status, body: ok.problem }).toEqual({ status: 201, body });
    const unknownInUnion = await post('/open', JSON.stringify({ ...body, kind: { type: 'b', c: 1 } }));
    expect(fieldPaths(unknownInUnion)).toEqual(['body:kind.c']);
  });
});
