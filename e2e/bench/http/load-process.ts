/**
 * The load generator's process: it stays up for a whole suite (no start-up per run). The parent
 * (./generator.ts) sends `{ type: 'load', spec }` over IPC, and it answers each with one LoadResult, one
 * run at a time (./load.ts); it exits when the parent disconnects.
 */
import { isMessage, tellParent } from '../lib/child.js';
import { runLoad, type LoadRequest } from './load.js';

let queue = Promise.resolve();
process.on('message', (m: unknown) => {
  if (!isMessage<LoadRequest>('load')(m)) return;
  queue = queue.then(async () => tellParent(await runLoad(m.spec)));
});
process.once('disconnect', () => void queue.then(() => process.exit(0)));
