/**
 * `isEntryPoint`: whether a module is the program Node was started with, so a service's main.ts can export
 * its `main()` for in-process tests and still start itself when run as `node dist/src/main.js`.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * True when `moduleUrl` (pass `import.meta.url`) is the script of `argv1`.
 * @param argv1 the started script @default process.argv[1]
 */
export function isEntryPoint(moduleUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (!argv1) return false;
  let script = resolve(argv1);
  try {
    script = realpathSync(script); // npm workspaces link packages; compare real paths
  } catch {
    // not a file on disk (e.g. `node -e`): compare as given
  }
  return pathToFileURL(script).href === moduleUrl;
}
