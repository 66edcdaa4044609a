/**
 * How an embedded PGlite database is run so that it costs ~100 MiB of resident memory instead of ~320 MiB
 * (measured by `make bench SUITES=shop`, issue 16). Two things take most of the rest, and both are set here,
 * once, for every process that opens PGlite (a service, `make dev`, the tests):
 *
 * - PostgreSQL's buffer pool: initdb writes `shared_buffers = 128MB`, and PGlite allocates and zeroes all of
 *   it in the WASM heap at start. A service's embedded database is small and its files stay in the
 *   operating system's page cache, so an 8 MB pool (1024 pages) is plenty.
 * - V8's optimizing WebAssembly compiler (TurboFan): PGlite's 9 MB module is tiered up as it runs, which
 *   holds ~80 MB more code for good and peaks at ~700 MB while it compiles. Liftoff (V8's baseline WASM
 *   compiler) alone runs a service's queries as fast here: their time goes to the protocol and JavaScript.
 *   A V8 flag works only on the command line of the process (NODE_OPTIONS refuses V8 flags), so whoever
 *   spawns a process that hosts PGlite adds {@link PGLITE_NODE_FLAGS}.
 */
import type { PGlite } from '@electric-sql/pglite';

/**
 * PostgreSQL settings every embedded database starts with, as `-c name=value` start parameters.
 * @see https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-SHARED-BUFFERS
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = { shared_buffers: '8MB' };

/**
 * Node.js (V8) flags for a process that hosts PGlite: compile WebAssembly with Liftoff only.
 * @see https://v8.dev/docs/wasm-compilation-pipeline
 */
export const PGLITE_NODE_FLAGS: readonly string[] = ['--liftoff-only'];

/**
 * PGlite's start parameters: its own defaults (single-user mode, fsync off, ...) followed by
 * {@link PGLITE_SETTINGS}. `startParams` replaces PGlite's defaults, so they are kept explicitly.
 */
export function pgliteStartParams(pglite: Pick<typeof PGlite, 'defaultStartParams'>): string[] {
  return [
    ...pglite.defaultStartParams,
    ...Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
}
