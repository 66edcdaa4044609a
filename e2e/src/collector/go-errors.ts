/**
 * Reads `go mod tidy -e`'s report of packages it could not load: which component of a distribution each
 * missing module is compiled into. A module only a component's tests import (`tested by`) does not stop
 * the build and is not reported.
 */

/** A module version the go command could not download, and the import chain that needs it. */
export interface MissingModule {
  /** `module@version`. */
  readonly module: string;
  /** Why, as the go command said it (e.g. `403 Forbidden: This module version is not available.`). */
  readonly reason: string;
  /** The packages from the main module down to the one that needs the module. */
  readonly chain: readonly string[];
}

/**
 * The modules the binary needs that could not be downloaded, from the go command's error output. Each
 * error is a block: `go: <main> imports`, one line per importing package, then `<pkg>: <module>@<version>:
 * reading <url>: <status>` and the proxy's `server response:` line.
 */
export function missingModules(output: string): MissingModule[] {
  const blocks = output.split(/^(?=go: )/m).filter((b) => b.startsWith('go: '));
  const found: MissingModule[] = [];
  for (const block of blocks) {
    const lines = block
      .slice('go: '.length)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const failing = lines.findIndex((l) => /^\S+: \S+@v\S+: /.test(l));
    if (failing < 0) continue;
    const chain = lines.slice(0, failing + 1).map((l) => l.split(/ (imports|tested by)$|: /)[0]!);
    if (lines.slice(0, failing).some((l) => l.endsWith(' tested by'))) continue; // a test's import only
    const [, module, rest] = /^\S+: (\S+@v[^:\s]+): (.*)$/.exec(lines[failing]!)!;
    const status = /: (\d{3} [^:]+)$/.exec(rest!)?.[1] ?? rest!;
    const response = lines
      .slice(failing + 1)
      .find((l) => l.startsWith('server response:'))
      ?.slice('server response:'.length)
      .trim();
    found.push({ module: module!, reason: response ? `${status}: ${response}` : status, chain });
  }
  return found;
}

/**
 * Which of `modules` (the distribution's component modules) each missing module is compiled into: the
 * first package of its import chain that belongs to one of them (the component itself, when its own
 * module is the one missing).
 */
export function missingByComponent(
  missing: readonly MissingModule[],
  modules: readonly string[],
): { byModule: Map<string, MissingModule[]>; unattributed: MissingModule[] } {
  const byModule = new Map<string, MissingModule[]>();
  const unattributed: MissingModule[] = [];
  for (const m of missing) {
    const owner = m.chain
      .map((pkg) => modules.find((mod) => pkg === mod || pkg.startsWith(`${mod}/`)))
      .find((mod) => mod !== undefined);
    const known = owner === undefined ? unattributed : (byModule.get(owner) ?? []);
    if (known.some((k) => k.module === m.module)) continue; // another package of the same module
    if (owner === undefined) unattributed.push(m);
    else byModule.set(owner, [...known, m]);
  }
  return { byModule, unattributed };
}
