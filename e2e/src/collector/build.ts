/**
 * Builds the platform's OpenTelemetry Collector with the OpenTelemetry Collector Builder (OCB) from the
 * distribution the charts declare (`COLLECTOR_COMPONENTS` on `COLLECTOR_RELEASE`), once per release and
 * component list, into `<cache>/otelcol/<version>/` outside the work tree.
 *
 * OCB writes the distribution's sources (main.go, components.go); the go command resolves and compiles
 * them. OCB's own resolution step (`go mod tidy` without `-e`) also downloads the modules that only the
 * components' tests import, and the module proxy these machines reach refuses some of those (e.g. contrib's
 * `pkg/semconvtest`), so the resolution is done here with `go mod tidy -e`, then the version check OCB
 * makes (every component and the core at the manifest's version) is made on the whole module graph: every
 * collector module core or contrib must be on the one release.
 *
 * Modules the components compile in that the proxy refuses at the version the release requires are built at
 * the nearest served version: `COLLECTOR_REPLACES`, go.mod `replace` directives. The build fails when one no
 * longer applies, and says when the proxy serves the required version again.
 *
 * A component whose compiled-in dependencies the proxy refuses cannot be built on such a machine. It is
 * left out, by name and with the modules refused, and the rest is built: the check that uses the build
 * reports what it could not check, and fails instead when FLOTILLA_REQUIRE_FULL_COLLECTOR=1.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  builderManifest,
  COLLECTOR_BINARY,
  COLLECTOR_COMPONENTS,
  COLLECTOR_RELEASE,
  componentVersion,
  distributionModules,
  replaceDirective,
  replacesFor,
  type CollectorComponent,
  type ModuleReplacement,
} from '@flotilla/charts';
import { missingByComponent, missingModules, type MissingModule } from './go-errors.js';

/** A component the go command could not build here, and why. */
export interface UnavailableComponent {
  readonly kind: CollectorComponent['kind'];
  readonly type: string;
  readonly module: string;
  readonly missing: readonly MissingModule[];
}

/** What `build.json` records next to the binary. */
export interface CollectorBuild {
  /** The executable. */
  readonly binary: string;
  readonly version: string;
  /** Hash of the full distribution (manifest and component types): a cached build is reused while it is unchanged. */
  readonly manifestHash: string;
  /** Component types the binary contains, per kind (`receivers/otlp`...). */
  readonly components: readonly string[];
  /** Components of the distribution the binary lacks, because their modules could not be downloaded. */
  readonly unavailable: readonly UnavailableComponent[];
  /** Modules built at another version than the release requires (`module required => module built`). */
  readonly replaced: readonly string[];
  /** Seconds the build took (installing OCB, resolving, compiling); 0 parts were skipped. */
  readonly seconds: { readonly builder: number; readonly resolve: number; readonly compile: number };
  /** Whether this call reused a cached build. */
  readonly reused: boolean;
}

/** `<FLOTILLA_CACHE or ~/.cache/flotilla>/otelcol/<version>`, the build directory of the release. */
export function collectorCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.FLOTILLA_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'flotilla');
  return join(base, 'otelcol', COLLECTOR_RELEASE.version);
}

/** `kind/type` of a component, as build.json lists them. */
export const componentId = (c: Pick<CollectorComponent, 'kind' | 'type'>): string => `${c.kind}/${c.type}`;

/** Options of {@link buildCollector}. */
export interface BuildCollectorOptions {
  /** Build directory. @default collectorCacheDir() */
  readonly dir?: string;
  /** Progress lines. @default stderr */
  readonly log?: (line: string) => void;
  /** Rebuild even when the cached build matches. @default FLOTILLA_COLLECTOR_REBUILD === '1' */
  readonly rebuild?: boolean;
}

/** Builds the collector, or reuses the cached build of the same manifest. */
export async function buildCollector(options: BuildCollectorOptions = {}): Promise<CollectorBuild> {
  const dir = options.dir ?? collectorCacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // The component types are part of what a build is (build.json lists them), though not of the manifest.
  const manifestHash = sha256(builderManifest() + COLLECTOR_COMPONENTS.map(componentId).join(',')).slice(
    0,
    16,
  );
  const cached = await readBuild(dir);
  if (
    cached &&
    cached.manifestHash === manifestHash &&
    !(options.rebuild ?? process.env.FLOTILLA_COLLECTOR_REBUILD === '1')
  ) {
    log(`collector: reusing ${cached.binary} (release ${cached.version}, built from the same manifest)`);
    return { ...cached, reused: true };
  }
  await mkdir(dir, { recursive: true });
  const seconds = { builder: 0, resolve: 0, compile: 0 };
  const go = goEnv();

  let started = Date.now();
  const builder = join(dir, 'bin', 'builder');
  if (!(await isExecutable(builder))) {
    log(`collector: installing the OpenTelemetry Collector Builder ${COLLECTOR_RELEASE.core.beta}`);
    await run('go', ['install', `go.opentelemetry.io/collector/cmd/builder@${COLLECTOR_RELEASE.core.beta}`], {
      env: { ...go, GOBIN: join(dir, 'bin') },
    });
  }
  seconds.builder = elapsed(started);

  started = Date.now();
  log(
    `collector: resolving ${COLLECTOR_COMPONENTS.length} components of release ${COLLECTOR_RELEASE.version}`,
  );
  let components = [...COLLECTOR_COMPONENTS];
  let missing = await generateAndResolve(dir, builder, components, go);
  const { byModule, unattributed } = missingByComponent(
    missing,
    components.map((c) => c.module),
  );
  if (unattributed.length > 0) {
    throw new Error(
      `collector: the go command could not download modules the collector core needs:\n${describe(unattributed)}`,
    );
  }
  const unavailable: UnavailableComponent[] = components
    .filter((c) => byModule.has(c.module))
    .map((c) => ({ kind: c.kind, type: c.type, module: c.module, missing: byModule.get(c.module)! }));
  if (unavailable.length > 0) {
    for (const u of unavailable) {
      log(`collector: cannot build ${componentId(u)} here: the module proxy refuses modules it compiles in:`);
      log(describe(u.missing));
    }
    components = components.filter((c) => !byModule.has(c.module));
    missing = await generateAndResolve(dir, builder, components, go);
    if (missing.length > 0)
      throw new Error(`collector: still missing after leaving out components:\n${describe(missing)}`);
  }
  const graph = await moduleGraph(join(dir, 'src'), go);
  const replaces = replacesFor(components);
  const problems = [...releaseProblems(graph, components), ...replacementProblems(graph, replaces)];
  if (problems.length > 0) throw new Error(`collector: ${problems.join('\n  ')}`);
  await reportServedAgain(replaces, dir, go, log);
  seconds.resolve = elapsed(started);

  started = Date.now();
  log(`collector: compiling ${components.map(componentId).join(', ')}`);
  const binary = join(dir, COLLECTOR_BINARY);
  await run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', binary, '.'], {
    cwd: join(dir, 'src'),
    env: go,
  });
  seconds.compile = elapsed(started);

  const build: CollectorBuild = {
    binary,
    version: COLLECTOR_RELEASE.version,
    manifestHash,
    components: components.map(componentId),
    unavailable,
    replaced: replaces.map(replaceDirective),
    seconds,
    reused: false,
  };
  await writeFile(join(dir, 'manifest.yaml'), builderManifest());
  await writeFile(join(dir, 'build.json'), `${JSON.stringify(build, null, 2)}\n`);
  log(`collector: built ${binary} in ${seconds.builder + seconds.resolve + seconds.compile} s`);
  return build;
}

/** Writes the distribution's sources for `components` with OCB and resolves their modules; returns what is missing. */
async function generateAndResolve(
  dir: string,
  builder: string,
  components: readonly CollectorComponent[],
  go: NodeJS.ProcessEnv,
): Promise<MissingModule[]> {
  const src = join(dir, 'src');
  await rm(src, { recursive: true, force: true });
  await mkdir(src, { recursive: true });
  const manifest = join(dir, 'build-manifest.yaml');
  await writeFile(manifest, builderManifest(components, src));
  await run(builder, [`--config=${manifest}`, '--skip-get-modules', '--skip-compilation'], { env: go });
  await run('go', ['mod', 'init', `flotilla.dev/${COLLECTOR_BINARY}`], { cwd: src, env: go });
  const requires = distributionModules(components).map((m) => `-require=${m.module}@${m.version}`);
  const replaces = replacesFor(components).map(
    (r) => `-replace=${r.module}@${r.required}=${r.module}@${r.built}`,
  );
  await run('go', ['mod', 'edit', ...requires, ...replaces], { cwd: src, env: go });
  const { output } = await run('go', ['mod', 'tidy', '-e'], { cwd: src, env: go });
  return missingModules(output);
}

/** A module of the build's graph: the version the graph requires, and the one built where it is replaced. */
export interface GraphModule {
  readonly path: string;
  readonly version: string;
  readonly replacedBy?: string;
}

const GRAPH_FORMAT = '{{.Path}} {{.Version}}{{with .Replace}} {{.Version}}{{end}}';

/** The resolved module graph of the distribution's sources (`go list -m all`). */
async function moduleGraph(src: string, go: NodeJS.ProcessEnv): Promise<GraphModule[]> {
  const { output } = await run('go', ['list', '-m', '-f', GRAPH_FORMAT, 'all'], { cwd: src, env: go });
  return parseModuleGraph(output);
}

/** Reads `go list -m -f '{{.Path}} {{.Version}}{{with .Replace}} {{.Version}}{{end}}' all`. */
export function parseModuleGraph(output: string): GraphModule[] {
  return output
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((p) => p.length === 2 || p.length === 3)
    .map(([path, version, replacedBy]) => ({
      path: path!,
      version: version!,
      ...(replacedBy ? { replacedBy } : {}),
    }));
}

/**
 * OCB's strict versioning, on the whole module graph: the core at the release, each component at its
 * manifest version, and every other collector module (core or contrib) required at the release's beta or
 * stable version. A component that needed a newer core would pull the graph off the release and be named.
 * A replaced module is required at the release too: its replacement is checked by {@link replacementProblems}.
 */
export function releaseProblems(
  graph: readonly GraphModule[],
  components: readonly CollectorComponent[],
): string[] {
  const resolved = new Map(graph.map((m) => [m.path, m.version]));
  const problems: string[] = [];
  for (const c of components) {
    const got = resolved.get(c.module);
    if (got !== componentVersion(c))
      problems.push(`${c.module} resolved to ${got}, the manifest says ${componentVersion(c)}`);
  }
  const lines: [string, { beta: string; stable: string }][] = [
    ['go.opentelemetry.io/collector', COLLECTOR_RELEASE.core],
    ['github.com/open-telemetry/opentelemetry-collector-contrib', COLLECTOR_RELEASE.contrib],
  ];
  for (const [module, version] of resolved) {
    const line = lines.find(([prefix]) => module === prefix || module.startsWith(`${prefix}/`));
    if (line && version !== line[1].beta && version !== line[1].stable)
      problems.push(`${module} ${version} is not on release ${line[1].beta} / ${line[1].stable}`);
  }
  if (problems.length === 0) return [];
  return [
    'the components are not on one release:',
    ...problems,
    'Move COLLECTOR_RELEASE (charts-ts/src/constructs/collector-distribution.ts) to one release every component has.',
  ];
}

/**
 * Every replacement applies, as declared: the graph requires the module at `required` and builds `built`,
 * and no module is replaced that COLLECTOR_REPLACES does not declare. One that no longer applies (the
 * release moved on) is named, to be updated or removed.
 */
export function replacementProblems(
  graph: readonly GraphModule[],
  replaces: readonly ModuleReplacement[],
): string[] {
  const problems: string[] = [];
  for (const r of replaces) {
    const got = graph.find((m) => m.path === r.module);
    if (got?.version !== r.required || got.replacedBy !== r.built)
      problems.push(
        `COLLECTOR_REPLACES: ${replaceDirective(r)} does not apply: the build ${
          got
            ? `requires ${r.module} ${got.version}${got.replacedBy ? ` => ${got.replacedBy}` : ''}`
            : `has no ${r.module}`
        }; update or remove it (charts-ts/src/constructs/collector-distribution.ts)`,
      );
  }
  for (const m of graph)
    if (m.replacedBy !== undefined && !replaces.some((r) => r.module === m.path))
      problems.push(`${m.path} ${m.version} => ${m.replacedBy} is replaced, but not in COLLECTOR_REPLACES`);
  return problems;
}

/** Says which replacements the proxy no longer needs: it serves their required version now. */
async function reportServedAgain(
  replaces: readonly ModuleReplacement[],
  dir: string,
  go: NodeJS.ProcessEnv,
  log: (line: string) => void,
) {
  for (const r of replaces) {
    const served = await run('go', ['mod', 'download', '-json', `${r.module}@${r.required}`], {
      cwd: dir,
      env: go,
    }).then(
      () => true,
      () => false,
    );
    if (served)
      log(
        `collector: the module proxy serves ${r.module} ${r.required} now: its replacement by ${r.built} can go (COLLECTOR_REPLACES)`,
      );
  }
}

function describe(missing: readonly MissingModule[]): string {
  return missing
    .map((m) => `  ${m.module} (${m.reason}; needed by ${m.chain.slice(1, -1).join(' -> ')})`)
    .join('\n');
}

/** The go command's environment: the caller's, with module downloads read-write so a cache can be removed. */
function goEnv(): NodeJS.ProcessEnv {
  const flags = process.env.GOFLAGS ?? '';
  return { ...process.env, GOFLAGS: flags.includes('-modcacherw') ? flags : `${flags} -modcacherw`.trim() };
}

async function readBuild(dir: string): Promise<CollectorBuild | undefined> {
  try {
    const build = JSON.parse(await readFile(join(dir, 'build.json'), 'utf8')) as CollectorBuild;
    return (await isExecutable(build.binary)) ? build : undefined;
  } catch {
    return undefined;
  }
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const elapsed = (since: number): number => Math.round((Date.now() - since) / 1000);

/** Runs a command; resolves with its combined output, rejects with it when the exit code is not 0. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('error', (err) => reject(new Error(`${command}: ${err.message}`)));
    child.once('exit', (code) => {
      if (code === 0) resolve({ output });
      else
        reject(new Error(`${command} ${args.join(' ')} failed (exit code ${code}):\n${output.slice(-8000)}`));
    });
  });
}

/** The build `buildCollector` left in the cache, for the checks that run it; throws when there is none. */
export function cachedCollectorBuild(dir: string = collectorCacheDir()): CollectorBuild {
  try {
    const build = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as CollectorBuild;
    accessSync(build.binary, constants.X_OK);
    return build;
  } catch (err) {
    throw new Error(
      `No collector build in ${dir} (${(err as Error).message}): run \`make collector-check\`, which builds it first.`,
      { cause: err },
    );
  }
}
