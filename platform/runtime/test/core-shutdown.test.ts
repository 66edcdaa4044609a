import { afterEach, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'node:http';
import { baseEnv, spawnChildService, startChildService, type ChildService } from './support/child-service.js';

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: string;
}

function get(url: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const children: ChildService[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
});

describe('graceful shutdown of a service process', () => {
  it('on SIGTERM fails readiness first, drains, finishes every in-flight request, runs hooks in reverse and exits 0', async () => {
    const svc = await startChildService(
      'service.ts',
      baseEnv({ SHUTDOWN_DRAIN_MS: '400', SHUTDOWN_TIMEOUT_MS: '10000' }),
    );
    children.push(svc);
    expect((await get(`${svc.url}/readyz`)).status).toBe(200);

    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    let finished = 0;
    const slow = [1, 2, 3].map(() =>
      get(`${svc.url}/slow?ms=1500`, agent).then((a) => {
        finished += 1;
        return a;
      }),
    );
    await svc.waitForLog(() => svc.logs.filter((l) => l.msg === 'slow request started').length === 3);

    svc.signal('SIGTERM');
    let ready = await get(`${svc.url}/readyz`);
    while (ready.status === 200) ready = await get(`${svc.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'shutting-down' });
    expect(finished).toBe(0); // readiness flipped while the requests were still running
    // During the drain delay the service still takes new requests (endpoints may not have noticed yet).
    expect((await get(`${svc.url}/hello`)).status).toBe(200);

    const answers = await Promise.all(slow);
    agent.destroy();
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body)).toEqual({ slept: 1500 });
      // Busy keep-alive connections are told to close instead of carrying a next request to a closed server.
      expect(a.connection).toBe('close');
    }
    const exit = await svc.exited;
    expect(exit).toEqual({ code: 0, signal: null });

    const msgs = svc.logs.map((l) => l.msg);
    const hookOrder = svc.logs.filter((l) => l.msg === 'stop hook ran').map((l) => l.hook);
    expect(hookOrder).toEqual(['fixture-hook', 'fixture-first']);
    expect(msgs.indexOf('shutdown: readiness failing, draining')).toBeLessThan(
      msgs.indexOf('shutdown: server closed, running stop hooks'),
    );
    expect(msgs.at(-1)).toBe('shutdown: complete');
  });

  it('closes idle keep-alive connections instead of waiting for clients to drop them', async () => {
    // Idle connections would otherwise stay open for the 65 s keep-alive timeout, past this deadline.
    const svc = await startChildService('service.ts', baseEnv({ SHUTDOWN_TIMEOUT_MS: '3000' }));
    children.push(svc);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(`${svc.url}/hello`, agent);
    expect(first.connection).toBe('keep-alive');
    const idle = Object.values(agent.freeSockets).flat();
    expect(idle).toHaveLength(1);
    const closed = new Promise<void>((resolve) => idle[0]?.once('close', () => resolve()));
    svc.signal('SIGTERM');
    await closed;
    expect((await svc.exited).code).toBe(0);
    agent.destroy();
  });

  it('on SIGTERM during slow start hooks runs the stop hooks, never listens and exits 0', async () => {
    const svc = spawnChildService('service.ts', baseEnv({ FIXTURE_START_HOOK_MS: '120000' }));
    children.push(svc);
    await svc.waitForLog((l) => l.msg === 'start hook running');
    svc.signal('SIGTERM');
    expect((await svc.exited).code).toBe(0);
    expect(svc.logs.filter((l) => l.msg === 'stop hook ran').map((l) => l.hook)).toEqual([
      'fixture-hook',
      'fixture-first',
    ]);
    expect(svc.logs.some((l) => typeof l.url === 'string')).toBe(false);
  });

  it('exits at once on a second signal', async () => {
    // A drain far longer than the test timeout: only the second signal can end this process in time.
    const svc = await startChildService(
      'service.ts',
      baseEnv({ SHUTDOWN_DRAIN_MS: '120000', SHUTDOWN_TIMEOUT_MS: '180000' }),
    );
    children.push(svc);
    svc.signal('SIGINT');
    await svc.waitForLog((l) => l.msg === 'shutdown: readiness failing, draining');
    svc.signal('SIGTERM');
    const exit = await svc.exited;
    expect(exit.code).toBe(1);
    expect(svc.logs.some((l) => l.level === 'warn' && String(l.msg).includes('second SIGTERM'))).toBe(true);
    expect(svc.logs.some((l) => l.msg === 'shutdown: complete')).toBe(false);
  });

  it('exits non-zero naming the stop hook that missed the deadline', async () => {
    const svc = await startChildService(
      'service.ts',
      baseEnv({ SHUTDOWN_TIMEOUT_MS: '300', FIXTURE_STOP_HOOK_MS: '120000' }),
    );
    children.push(svc);
    svc.signal('SIGTERM');
    const exit = await svc.exited;
    expect(exit.code).toBe(1);
    const line = svc.logs.find(
      (l) => l.level === 'error' && String(l.msg).startsWith('shutdown: incomplete'),
    );
    expect(line).toBeDefined();
    expect(line?.msg).toContain('"fixture-hook" did not finish');
    expect(line?.msg).toContain('"fixture-first" never ran');
    expect(line?.unfinished_hooks).toEqual(['fixture-hook (unfinished)', 'fixture-first (not-run)']);
    expect(line?.msg).toContain('SHUTDOWN_TIMEOUT_MS');
  });

  it('names the requests still running at the deadline', async () => {
    const svc = await startChildService('service.ts', baseEnv({ SHUTDOWN_TIMEOUT_MS: '300' }));
    children.push(svc);
    const pending = get(`${svc.url}/slow?ms=60000`).catch((err: Error) => err);
    await svc.waitForLog((l) => l.msg === 'slow request started');
    svc.signal('SIGTERM');
    expect((await svc.exited).code).toBe(1);
    const line = svc.logs.find(
      (l) => l.level === 'error' && String(l.msg).startsWith('shutdown: incomplete'),
    );
    expect(line?.unfinished_requests).toEqual([expect.stringMatching(/^GET \/slow \(running \d+ ms\)$/)]);
    await pending;
  });

  it('a crash in start exits 1 with the reason', async () => {
    const blocker = await startChildService('service.ts', baseEnv());
    children.push(blocker);
    const port = new URL(blocker.url).port;
    const second = spawnChildService('service.ts', baseEnv({ PORT: port }));
    children.push(second);
    expect((await second.exited).code).toBe(1);
    expect(second.logs.find((l) => l.level === 'fatal')?.msg).toContain(`Port ${port} is already in use`);
  });
});
