/**
 * The kit reads a plain JSON body (`Content-Type: application/json`, a `Content-Length`, no
 * `Content-Encoding`) itself and hands every other body to body-parser (src/http/json-body.ts). A client must
 * not be able to tell which: the same bytes get the same answer either way.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { connect } from 'node:net';
import { z } from 'zod';
import { createService, validate, type Service } from '../src/index.js';
import { memoryLog } from './support/memory-log.js';

let svc: Service;
let url: URL;
const log = memoryLog();

beforeAll(async () => {
  svc = createService({
    name: 'json-body-test',
    env: {
      SERVICE_NAME: 'json-body-test',
      PORT: '0',
      FLOTILLA_ENVIRONMENT: 'test',
      OTEL_SDK_DISABLED: 'true',
    },
    manageProcess: false,
    bodyLimit: '1kb',
    logDestination: log,
  });
  svc.router.post('/raw', (req, res) => {
    res.json({ body: req.body as unknown });
  });
  svc.router.post('/items', validate({ body: z.object({ name: z.string() }) }), (req, res) => {
    res.status(201).json(req.body);
  });
  url = new URL((await svc.start()).url);
});

afterAll(async () => {
  await svc.stop();
});

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Posts `body` as the kit reads it directly (`direct`: its length declared) or as only body-parser reads it
 * (`chunked`: no length, `Transfer-Encoding: chunked`), in as many writes as `pieces` has.
 */
function post(
  path: string,
  pieces: readonly Buffer[],
  how: 'direct' | 'chunked',
  contentType = 'application/json',
): Promise<Answer> {
  const length = pieces.reduce((n, p) => n + p.length, 0);
  const headers: Record<string, string> = { 'content-type': contentType };
  if (how === 'direct') headers['content-length'] = String(length);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: url.hostname, port: url.port, method: 'POST', path, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
      },
    );
    outgoing.on('error', reject);
    for (const piece of pieces) outgoing.write(piece);
    outgoing.end();
  });
}

async function waitFor<T>(found: () => T | undefined): Promise<T> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const value = found();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('not seen within 5 s');
}

/** What a client compares: the status, and the body or the problem's type and detail. */
function seen(answer: Answer): unknown {
  const problem = answer.body as { type?: string; detail?: string };
  return answer.status < 400 ? answer : { status: answer.status, type: problem.type, detail: problem.detail };
}

const text = (s: string) => Buffer.from(s, 'utf8');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('the direct read and body-parser answer alike', () => {
  it.each([
    ['an object', [text('{"name":"tea","tags":["a"],"n":1.5}')]],
    ['an array', [text(' [1, {"a": null}] ')]],
    ['non-ASCII text and escapes', [text('{"name":"é😀\\n\\u00e9\\\\u0000"}')]],
    [
      'a body split inside a character',
      [text('{"name":"'), Buffer.from([0xc3]), Buffer.from([0xa9]), text('"}')],
    ],
    ['a byte order mark before the JSON', [BOM, text('{"name":"bom"}')]],
    ['an empty body', []],
  ])('%s is parsed into the same req.body', async (_name, pieces) => {
    const direct = await post('/raw', pieces, 'direct');
    expect(direct.status).toBe(200);
    expect(direct).toEqual(await post('/raw', pieces, 'chunked'));
  });

  it.each([
    ['malformed JSON', [text('{"name":')]],
    ['bytes that are not UTF-8', [text('{"name":"'), Buffer.from([0xff, 0xfe]), text('"}')]],
    ['a NUL escape (PostgreSQL cannot store it)', [text('{"name":"a\\u0000"}')]],
    ['a lone surrogate escape', [text('{"name":"\\ud800"}')]],
  ])('%s gets the same 400 problem', async (_name, pieces) => {
    const direct = await post('/raw', pieces, 'direct');
    expect(direct.status).toBe(400);
    expect(seen(direct)).toEqual(seen(await post('/raw', pieces, 'chunked')));
  });

  it.each([
    ['a number', '123'],
    ['a string', '"tea"'],
    ['null', 'null'],
  ])('a bare JSON value (%s) is refused as not an object or array', async (_name, body) => {
    for (const how of ['direct', 'chunked'] as const) {
      const answer = await post('/raw', [text(body)], how);
      expect({ how, status: answer.status, type: (answer.body as { type?: string }).type }).toEqual({
        how,
        status: 400,
        type: 'urn:flotilla:problem:malformed-json',
      });
    }
  });

  it('a body over the limit gets the 413 naming its length', async () => {
    const big = text(JSON.stringify({ name: 'x'.repeat(2000) }));
    expect(seen(await post('/raw', [big], 'direct'))).toEqual({
      status: 413,
      type: 'urn:flotilla:problem:payload-too-large',
      detail: 'The request body is 2011 bytes; the limit is 1024 bytes. Send a smaller body.',
    });
  });

  it('a JSON type with parameters or a +json suffix is read too, and validated bodies are checked alike', async () => {
    const body = [text('{"name":"tea","extra":1}')];
    for (const type of [
      'application/json; charset=UTF-8',
      'application/merge-patch+json',
      'Application/JSON',
    ]) {
      const answer = await post('/items', body, 'direct', type);
      expect({ type, status: answer.status }).toEqual({ type, status: 400 });
      expect(JSON.stringify(answer.body)).toContain('unknown field');
    }
    expect(await post('/items', [text('{"name":"tea"}')], 'direct')).toEqual({
      status: 201,
      body: { name: 'tea' },
    });
  });
});

it('a client that goes away in the middle of its body costs nothing: no error logged, the service serves on', async () => {
  log.lines.splice(0);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    'POST /raw HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":',
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.destroy();
  const line = await waitFor(() => log.lines.find((l) => l.msg === 'request' && l.path === '/raw'));
  expect(line.status).toBe(499);
  expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
  expect(await post('/raw', [text('{"ok":true}')], 'direct')).toEqual({
    status: 200,
    body: { body: { ok: true } },
  });
});
