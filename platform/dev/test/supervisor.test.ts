import { describe, expect, it } from '@jest/globals';
import { SupervisedProcess, type SupervisorEvent } from '../src/index.js';
import { fixture } from './support.js';

describe('SupervisedProcess', () => {
  it('gives up, loudly, on a process that crashes at every start', async () => {
    const events: SupervisorEvent[] = [];
    const lines: string[] = [];
    const gaveUp = new Promise<void>((resolve) => {
      const proc = new SupervisedProcess({
        name: 'broken',
        command: process.execPath,
        args: ['--import', 'tsx', fixture('crash-at-start.ts')],
        env: { PATH: process.env.PATH ?? '' },
        cwd: process.cwd(),
        restart: { initialDelayMs: 20, maxRapidCrashes: 3 },
        onLine: (line) => lines.push(line),
        onEvent: (e) => {
          events.push(e);
          if (e.kind === 'gave-up') resolve();
        },
      });
      proc.start();
    });
    await gaveUp;
    expect(events.map((e) => e.kind)).toEqual([
      'started',
      'crashed',
      'started',
      'crashed',
      'started',
      'gave-up',
    ]);
    expect(events.at(-1)).toMatchObject({ kind: 'gave-up', code: 1, crashes: 3 });
    // Backoff doubles per rapid crash.
    expect(
      events.filter((e) => e.kind === 'crashed').map((e) => (e as { restartInMs: number }).restartInMs),
    ).toEqual([20, 40]);
    expect(lines.filter((l) => l.includes('DATABASE_DIR is not writable'))).toHaveLength(3);
  });
});
