/**
 * `flotilla deploy <dist/env> [flags]` (`make deploy ENV=<env>` runs it):
 *
 *   --context <name>   kubeconfig context (default: the current context)
 *   --dry-run          server-side dry run: the API server validates and admits every object, stores nothing
 *   --no-wait          do not wait for Deployments and StatefulSets to become available
 *   --prune            delete objects of earlier deploys that dist/<env>/ no longer holds (listed either way)
 *   --timeout <t>      how long to wait for CRDs and workloads: 300, 90s, 5m, 1h (default 5m)
 *
 * Exit status: 0 when every object was applied (and is ready), 1 when any failed (each is named with the
 * API server's reason), 2 for bad input (usage, no context, no or unreadable manifests).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, ContextError } from './cluster.js';
import { deploy, type DeployOptions } from './deploy.js';
import { loadManifests, ManifestError } from './manifests.js';
import { progressFor } from './progress.js';
import { summary } from './report.js';
import { ApplySetError } from './applyset.js';

const USAGE =
  'usage: flotilla deploy <dist/env> [--context <name>] [--dry-run] [--no-wait] [--prune] [--timeout <5m>]';

/** Bad command line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parsed command line. */
export interface Command {
  readonly options: DeployOptions;
  readonly context?: string;
}

/** Parses `deploy <dir> [flags]`. @throws UsageError naming the problem */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        context: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'no-wait': { type: 'boolean', default: false },
        prune: { type: 'boolean', default: false },
        timeout: { type: 'string', default: '5m' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const [command, dir, ...rest] = parsed.positionals;
  if (command !== 'deploy') throw new UsageError(`unknown command "${command ?? ''}"\n${USAGE}`);
  if (!dir) throw new UsageError(`which environment? name its folder, e.g. dist/dev\n${USAGE}`);
  if (rest.length) throw new UsageError(`one folder at a time (also given: ${rest.join(' ')})\n${USAGE}`);
  const { values } = parsed;
  return {
    ...(values.context !== undefined ? { context: values.context } : {}),
    options: {
      dir,
      dryRun: values['dry-run'],
      wait: !values['no-wait'],
      prune: values.prune,
      timeoutMs: parseDuration(values.timeout),
    },
  };
}

/** `300` or `300s` seconds, `5m` minutes, `1h` hours, in milliseconds. @throws UsageError */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) {
    throw new UsageError(
      `--timeout "${text}" is not a duration: write seconds (300, 90s), minutes (5m) or hours (1h)`,
    );
  }
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** Runs the command; resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const command = parseCommand(argv);
    // Bad manifests are reported before the cluster is even looked for.
    const manifests = loadManifests(command.options.dir);
    const cluster = connect(command.context !== undefined ? { context: command.context } : {});
    const result = await deploy(cluster, command.options, progressFor(process.stdout), manifests);
    const lines = summary(result, command.options.dryRun ?? false);
    for (const text of lines)
      (result.failures.length && text.startsWith('  ') ? process.stderr : process.stdout).write(`${text}\n`);
    return result.failures.length ? 1 : 0;
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ContextError ||
      error instanceof ManifestError ||
      error instanceof ApplySetError
    ) {
      process.stderr.write(`flotilla deploy: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
