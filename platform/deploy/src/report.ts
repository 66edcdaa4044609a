/**
 * How deploy words what went wrong: each failed object with the API server's own reason, and a summary
 * of what was applied.
 */
import { ApiError } from './cluster.js';
import type { DeployResult } from './deploy.js';
import { describe } from './objects.js';

/** The API server's reason for a failed request, as one line: `Invalid: Deployment.apps "x" is invalid: ...`. */
export function reasonOf(error: unknown): string {
  if (error instanceof ApiError) {
    const prefix = error.reason ? `${error.reason}: ` : error.status ? `HTTP ${error.status}: ` : '';
    return `${prefix}${error.message}`.replace(/\s*\n\s*/g, ' ');
  }
  return error instanceof Error ? error.message : String(error);
}

/** `12 Deployment, 3 Service, ...`: how many objects of which kinds, most first. */
export function countByKind(refs: readonly { readonly kind: string }[]): string {
  const counts = new Map<string, number>();
  for (const { kind } of refs) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
}

/** The closing lines of a deploy: what was applied, what was skipped or left, and every failure. */
export function summary(result: DeployResult, dryRun: boolean): string[] {
  const lines = [
    `${dryRun ? 'validated' : 'applied'} ${result.applied.length} objects of ${result.system}/${result.environment}` +
      (result.applied.length ? `: ${countByKind(result.applied)}` : ''),
  ];
  for (const warning of result.warnings) lines.push(`warning: ${warning}`);
  for (const { ref, reason } of result.skipped) lines.push(`skipped ${describe(ref)}: ${reason}`);
  if (result.pruned.length)
    lines.push(
      `${dryRun ? 'would prune' : 'pruned'} ${result.pruned.length} objects: ${countByKind(result.pruned)}`,
    );
  if (result.failures.length) {
    lines.push(`deploy failed: ${result.failures.length} object(s):`);
    for (const { ref, reason } of result.failures) lines.push(`  ${describe(ref)}: ${reason}`);
  }
  return lines;
}
