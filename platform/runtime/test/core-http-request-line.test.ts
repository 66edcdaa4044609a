import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createHttpApp, createHttpServer, createLogger } from '../src/index.js';
import { memoryLog } from './support/memory-log.js';

/**
 * The kit's logger writes the request line as text (log/logger.ts, infoLineWriter); any other pino logger
 * gets it through `log.info`. A user must not be able to tell the two apart.
 */
describe('the request log line', () => {
  const kitLines = memoryLog();
  const pinoLines = memoryLog();
  const quietLines = memoryLog();
  const servers: Server[] = [];
  const ports: number[] = [];

  beforeAll(async () => {
    const logs = [
      createLogger({ name: 'lines', destination: kitLines }),
      pino({ base: { service: 'lines' }, messageKey: 'msg' }, pinoLines),
      createLogger({ name: 'lines', level: 'warn', destination: quietLines }),
    ];
    for (const log of logs) {
      const { app, router } = createHttpApp({ log });
      router.get('/things/:id', (req, res) => {
        res.json({ id: req.params.id });
      });
      const server = createHttpServer(app);
      await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
      servers.push(server);
      ports.push((server.address() as AddressInfo).port);
    }
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((closed) => s.close(closed))));
  });

  /** Sends a raw request line (Node accepts `"` and `\` in a path; fetch would encode them). */
  async function rawGet(port: number, path: string, requestId: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n`,
        ),
      );
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    });
  }

  async function lineOf(lines: Record<string, unknown>[], requestId: string) {
    for (let i = 0; i < 200 && !lines.some((l) => l.request_id === requestId); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    return lines.find((l) => l.request_id === requestId && l.msg === 'request');
  }

  /** The fields a request line adds, in their order (time, duration and the pid/hostname of pino's defaults left out). */
  const requestFields = (line: Record<string, unknown> | undefined) =>
    Object.entries(line ?? {}).filter(
      ([k]) => !['time', 'duration_ms', 'pid', 'hostname', 'level'].includes(k),
    );

  it.each([
    ['a matched route, with a quote and a backslash in the path', '/things/a"b\\c', 'HTTP/1.1 200 OK'],
    ['no route (404): route is null', '/nowhere', 'HTTP/1.1 404 Not Found'],
  ])('is the same through the kit logger and through a pino logger: %s', async (_case, path, status) => {
    const requestId = `same-${path.length}`;
    const [kitPort, pinoPort] = ports as [number, number];
    expect(await rawGet(kitPort, path, requestId)).toBe(status);
    expect(await rawGet(pinoPort, path, requestId)).toBe(status);
    const kit = await lineOf(kitLines.lines, requestId);
    const plain = await lineOf(pinoLines.lines, requestId);
    expect(kit).toBeDefined();
    expect(requestFields(kit)).toEqual(requestFields(plain));
    expect(kit).toMatchObject({ level: 'info', path, msg: 'request', service: 'lines' });
    expect(typeof kit?.duration_ms).toBe('number');
    expect(kit?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('is not written when info is off', async () => {
    // After a line that is written: had the quiet service's line been written, it would be there by now.
    expect(await rawGet(ports[2] as number, '/things/1', 'quiet')).toBe('HTTP/1.1 200 OK');
    expect(await rawGet(ports[0] as number, '/things/1', 'loud')).toBe('HTTP/1.1 200 OK');
    expect(await lineOf(kitLines.lines, 'loud')).toBeDefined();
    expect(quietLines.lines).toEqual([]);
  });
});
