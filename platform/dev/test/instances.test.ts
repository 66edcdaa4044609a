import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { defineService, defineSystem, type System } from '@flotilla/model';
import type { Stack } from '../src/index.js';
import { alive, startFixtureStack, testSystem } from './support.js';

/** One public service without a database, so two of its processes can run side by side. */
const rollingSystem = defineSystem({
  name: 'devroll',
  services: [defineService({ name: 'front', port: 9111, routes: ['/api/front'] })],
  topics: [],
});

const start = (system: System) => startFixtureStack(system, { gatewayReadinessIntervalMs: 200 });

describe('more than one process of a service', () => {
  let stack: Stack;
  let stateDir: string;

  beforeAll(async () => {
    ({ stack, stateDir } = await start(rollingSystem));
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }, 30_000);

  const servedBy = async (): Promise<number> => {
    const res = await fetch(`${stack.gatewayUrl}/api/front`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { pid: number }).pid;
  };

  it('starts a second process on its own port, and the gateway spreads requests across both', async () => {
    const [first] = stack.instances('front');
    const second = await stack.startInstance('front');
    expect(second).toMatchObject({ service: 'front', label: 'front#2', state: 'running' });
    expect(second.port).not.toBe(first!.port);
    const pids = new Set<number>();
    for (let i = 0; i < 8; i++) pids.add(await servedBy());
    expect(pids).toEqual(new Set([first!.pid, second.pid]));
  });

  it('stops the old process while requests run through the gateway, and none of them fails', async () => {
    const [old, replacement] = stack.instances('front');
    let running = true;
    const statuses: number[] = [];
    const load = (async () => {
      while (running) statuses.push((await fetch(`${stack.gatewayUrl}/api/front`)).status);
    })();
    await new Promise((r) => setTimeout(r, 300));
    await stack.stopInstance('front', old!.pid!);
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await load;
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(alive(old!.pid!)).toBe(false);
    expect(stack.instances('front').map((i) => i.pid)).toEqual([replacement!.pid]);
    expect(stack.services()[0]).toMatchObject({ pid: replacement!.pid, port: replacement!.port });
    expect(await servedBy()).toBe(replacement!.pid);
  });
});

describe('a second process of a service with an embedded database', () => {
  it('is refused, naming why and what to do instead', async () => {
    const { stack, stateDir } = await start(testSystem);
    try {
      await expect(stack.startInstance('web')).rejects.toThrow(
        /Cannot start a second process of web: its embedded PGlite database opens in one process at a time; start the stack on a PostgreSQL server/,
      );
    } finally {
      await stack.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});
