/** The parent's side of ./load-process.ts: one load-generator process for a whole suite, one run at a time. */
import { join } from 'node:path';
import { isMessage, spawnTs } from '../lib/child.js';
import type { LoadRequest, LoadResult, LoadSpec } from './load.js';

const here = new URL('.', import.meta.url).pathname;

export interface LoadGenerator {
  /** Runs one load; rejects when any request failed (a non-2xx answer, an error, a timeout). */
  run(spec: LoadSpec): Promise<LoadResult>;
  stop(): Promise<void>;
}

export function startLoadGenerator(): LoadGenerator {
  const child = spawnTs(join(here, 'load-process.ts'));
  let queue: Promise<unknown> = Promise.resolve();
  return {
    run(spec) {
      const result = queue.then(async () => {
        const answer = child.message(isMessage<LoadResult>('load-result'), (spec.seconds + 30) * 1000);
        child.process.send({ type: 'load', spec } satisfies LoadRequest);
        const r = await answer;
        if (r.failures > 0)
          throw new Error(`${spec.method ?? 'GET'} ${spec.url}: ${r.failures} failed requests under load`);
        return r;
      });
      queue = result.catch(() => undefined);
      return result;
    },
    async stop() {
      if (child.process.connected) child.process.disconnect();
      await child.stop();
    },
  };
}
