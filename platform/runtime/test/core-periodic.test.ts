import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { startPeriodicTask } from '../src/lifecycle/index.js';

const silent = pino({ level: 'silent' });

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a periodic task', () => {
  it('runs on its timer, one round at a time, even when a round outlasts the interval', async () => {
    let running = 0;
    let most = 0;
    let rounds = 0;
    const task = startPeriodicTask({
      name: 'slow sweep',
      intervalMs: 5,
      log: silent,
      round: async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 30));
        running -= 1;
        return ++rounds;
      },
    });
    await until('three rounds', () => rounds >= 3);
    await task.stop();
    expect(most).toBe(1);
  });

  it('runNow() waits for the round in flight, then runs one of its own and gives its result', async () => {
    const first = gate();
    const calls: string[] = [];
    const task = startPeriodicTask({
      name: 'sweep',
      intervalMs: 60_000,
      log: silent,
      round: async () => {
        const n = calls.push(`round ${calls.length + 1}`);
        if (n === 1) await first.opened;
        return n;
      },
    });
    const a = task.runNow();
    const b = task.runNow();
    expect(calls).toEqual(['round 1']);
    first.open();
    await expect(a).resolves.toBe(1);
    await expect(b).resolves.toBe(2);
    await task.stop();
  });

  it('logs a failed round and runs again at the next tick', async () => {
    const warnings: unknown[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    let rounds = 0;
    const task = startPeriodicTask({
      name: 'flaky sweep',
      intervalMs: 5,
      log,
      round: async () => {
        rounds += 1;
        if (rounds === 1) throw new Error('database is down');
        return rounds;
      },
    });
    await until('a round after the failure', () => rounds >= 2);
    await task.stop();
    expect(warnings[0]).toMatchObject({
      task: 'flaky sweep',
      msg: 'flaky sweep failed; it runs again at the next interval',
      err: { message: 'database is down' },
    });
  });

  it('stop() ends the timer, tells a long round to finish early, and resolves once it has', async () => {
    const started = gate();
    let batches = 0;
    let finished = false;
    const task = startPeriodicTask({
      name: 'backlog',
      intervalMs: 60_000,
      log: silent,
      round: async (stopping) => {
        started.open();
        while (!stopping()) {
          batches += 1;
          await new Promise((r) => setTimeout(r, 2));
        }
        finished = true;
        return batches;
      },
    });
    const round = task.runNow();
    await started.opened;
    await task.stop();
    expect(finished).toBe(true);
    await expect(round).resolves.toBe(batches);
    // Idempotent, and no tick after stop.
    await task.stop();
    const after = batches;
    await new Promise((r) => setTimeout(r, 50));
    expect(batches).toBe(after);
  });

  it('refuses an interval that is not a positive number of milliseconds, naming the task', () => {
    expect(() =>
      startPeriodicTask({ name: 'sweep', intervalMs: 0, log: silent, round: async () => 0 }),
    ).toThrow('sweep: intervalMs must be a positive number of milliseconds (got 0).');
  });
});
