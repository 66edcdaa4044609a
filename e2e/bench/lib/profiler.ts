/**
 * Lets a parent profile a child's steady state (not its start-up) over IPC: `{ type: 'profile-start' }`
 * starts the V8 CPU profiler, `{ type: 'profile-stop', file }` writes a `.cpuprofile` and answers
 * `{ type: 'profile-written', file }`. Installed by benchmark servers; costs nothing until used.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { isMessage, tellParent } from './child.js';

export interface ProfileWritten {
  readonly type: 'profile-written';
  readonly file: string;
}

export function acceptProfilingRequests(): void {
  let session: Session | undefined;
  process.on('message', (m: unknown) => {
    void (async () => {
      if (isMessage<{ type: 'profile-start' }>('profile-start')(m) && session === undefined) {
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        // 100 us instead of the default 1 ms: requests take a few hundred microseconds each.
        await session.post('Profiler.setSamplingInterval', { interval: 100 });
        await session.post('Profiler.start');
      } else if (
        isMessage<{ type: 'profile-stop'; file: string }>('profile-stop')(m) &&
        session !== undefined
      ) {
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        session = undefined;
        writeFileSync(m.file, JSON.stringify(profile));
        tellParent({ type: 'profile-written', file: m.file });
      }
    })();
  });
}
