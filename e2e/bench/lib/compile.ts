/**
 * Compiled benchmark entries. Its own module, apart from ./child.ts: benchmark servers import child.ts to
 * talk to their parent, and loading TypeScript would add ~0.6 s to their start.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './child.js';

/**
 * Compiles a self-contained TypeScript entry (it imports packages only, no relative files) to an ES module
 * under `node_modules/.cache/flotilla-bench/`, where it resolves the same packages. Spawned with
 * `sources: false`, it runs the way a container image runs a service: plain `node`, no tsx loader (which
 * handles every import of the process in a loader thread, a start-up cost images never pay).
 */
export function compileEntry(entry: string): string {
  const source = readFileSync(entry, 'utf8');
  if (/from\s+['"]\.\.?\//.test(source))
    throw new Error(`${entry} imports relative files; compileEntry takes self-contained entries only`);
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const out = join(
    repoRoot,
    'node_modules',
    '.cache',
    'flotilla-bench',
    basename(entry).replace(/\.ts$/, '.mjs'),
  );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, outputText);
  return out;
}
