/**
 * A Cloud Map that accepts connections and never answers must not hold up calls to peers: every
 * DiscoverInstances call is aborted at its deadline, and the call goes on with the declared URL (issue 11,
 * defect 3). On main the resolver's client set `requestTimeout`, which the installed smithy handler only
 * logs a warning about, and a DiscoverInstances against such a server was still pending after 6 s.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { DiscoverInstancesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { CloudMapResolver } from '../src/client/cloudmap.js';
import { AwsDeadlineError, awsDeadlineConfig, withAwsDeadline } from '../src/wiring/aws-deadline.js';
import { json, startPeer } from './support/client-peer.js';
import { memoryLog } from './support/memory-log.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A TCP server that accepts every connection, reads what comes, and never answers. */
async function silentServer(): Promise<{ endpoint: string; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
  };
}

/** An SDK client for `endpoint` (as an emulator is reached), with `extra` settings. */
function discoveryClient(endpoint: string, extra: object = {}): ServiceDiscoveryClient {
  const client = new ServiceDiscoveryClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
    disableHostPrefix: true,
    ...extra,
  });
  cleanups.push(() => client.destroy());
  return client;
}

/** How a promise settled and after how long; `pending` if not within `boundMs`. */
async function settle<T>(p: Promise<T>, boundMs: number) {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    p.then(
      (value) => ({ state: 'resolved' as const, value }),
      (error: unknown) => ({ state: 'rejected' as const, error }),
    ),
    new Promise<{ state: 'pending' }>((resolve) => {
      timer = setTimeout(() => resolve({ state: 'pending' }), boundMs);
    }),
  ]);
  clearTimeout(timer);
  return { ...outcome, ms: Date.now() - started };
}

const discover = new DiscoverInstancesCommand({ NamespaceName: 'shop.internal', ServiceName: 'inventory' });

describe('Cloud Map calls against a server that never answers', () => {
  it('the resolver aborts DiscoverInstances at its deadline and calls the peer at its declared URL', async () => {
    const silent = await silentServer();
    const peer = await startPeer((_req, res) => json(res, 200, { ok: true }));
    cleanups.push(() => peer.close());
    const log = memoryLog();
    // The resolver's own client settings, pointed at the silent server.
    const resolver = new CloudMapResolver('shop.internal', pino({ level: 'warn' }, log), {
      client: discoveryClient(silent.endpoint, awsDeadlineConfig({ deadlineMs: 1000, maxAttempts: 2 })),
      deadlineMs: 1000,
    });
    const outcome = await settle(resolver.resolve('inventory', peer.url), 10_000);
    expect(outcome).toMatchObject({ state: 'resolved', value: peer.url });
    expect(outcome.ms).toBeLessThan(8000); // deadline 1 s; generous for a loaded machine
    expect(silent.connections()).toBeGreaterThanOrEqual(1);
    const [warning] = log.lines.filter((l) => String(l.msg).includes('DiscoverInstances failed'));
    expect(warning?.err).toMatchObject({
      type: 'AwsDeadlineError',
      message: expect.stringContaining(
        "Cloud Map DiscoverInstances for 'inventory' in namespace 'shop.internal' did not complete within 1000 ms",
      ) as unknown,
    });
  }, 20_000);

  it('the deadline holds even for a client of its own with no timeouts at all', async () => {
    const silent = await silentServer();
    const log = memoryLog();
    const resolver = new CloudMapResolver('shop.internal', pino({ level: 'warn' }, log), {
      client: discoveryClient(silent.endpoint, { maxAttempts: 1 }),
      deadlineMs: 500,
    });
    const outcome = await settle(resolver.resolve('inventory', 'http://inventory.shop.svc:8080'), 10_000);
    expect(outcome).toMatchObject({ state: 'resolved', value: 'http://inventory.shop.svc:8080' });
    expect(outcome.ms).toBeLessThan(8000);
  }, 20_000);

  it('awsDeadlineConfig: each attempt times out for real and is retried (standard mode)', async () => {
    const silent = await silentServer();
    const client = discoveryClient(silent.endpoint, awsDeadlineConfig({ deadlineMs: 900, maxAttempts: 3 }));
    // No abort signal: the handler's own per-attempt timeout must end the attempts.
    const outcome = await settle(client.send(discover), 10_000);
    expect(outcome.state).toBe('rejected');
    expect((outcome as { error: Error }).error.name).toBe('TimeoutError');
    expect(outcome.ms).toBeLessThan(8000);
    expect(silent.connections()).toBe(3); // one connection per attempt: the hung ones were destroyed
  }, 20_000);

  it('withAwsDeadline rejects with a clear error at the deadline, also during a retry', async () => {
    const silent = await silentServer();
    // Ten attempts of 1 s would take 10 s; the deadline ends the call after 700 ms.
    const client = discoveryClient(
      silent.endpoint,
      awsDeadlineConfig({ deadlineMs: 10_000, maxAttempts: 10 }),
    );
    const call = withAwsDeadline('Cloud Map DiscoverInstances', 700, (abortSignal) =>
      client.send(discover, { abortSignal }),
    );
    const outcome = await settle(call, 10_000);
    expect(outcome.state).toBe('rejected');
    const error = (outcome as { error: Error }).error;
    expect(error).toBeInstanceOf(AwsDeadlineError);
    expect(error.message).toBe(
      'Cloud Map DiscoverInstances did not complete within 700 ms and was aborted: the endpoint did not ' +
        'answer in time (or its retries used the time up). Check that the AWS endpoint is reachable from here.',
    );
    expect(outcome.ms).toBeLessThan(8000);
  }, 20_000);

  it('withAwsDeadline passes on an outer abort with its own reason, and refuses nonsense', async () => {
    const outer = new AbortController();
    const call = withAwsDeadline(
      'x',
      60_000,
      (signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error)),
        ),
      outer.signal,
    );
    outer.abort(new Error('shutting down'));
    await expect(call).rejects.toThrow('shutting down');
    expect(() => awsDeadlineConfig({ deadlineMs: 0 })).toThrow(RangeError);
    expect(() => awsDeadlineConfig({ deadlineMs: 100, maxAttempts: 0 })).toThrow(RangeError);
  });
});
