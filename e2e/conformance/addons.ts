/**
 * The CustomResourceDefinitions of the add-ons the charts use, installed into the conformance API server
 * before any environment is applied (on a real cluster the add-ons' own charts install them).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { crdReadiness, loadManifests, reasonOf, type Cluster, type KubeObject } from '@flotilla/deploy';

/**
 * Folders of CRD files, one per add-on. Today these are the files vendored under `charts-ts/crds/`;
 * the add-on table (issue 12) replaces this one function with the CRDs of exactly the pinned versions.
 */
export function addonCrdFolders(repo: string): string[] {
  const root = join(repo, 'charts-ts', 'crds');
  return readdirSync(root)
    .map((name) => join(root, name))
    .filter((path) => statSync(path).isDirectory())
    .sort();
}

/** One CRD that the server did not accept or establish. */
export interface CrdProblem {
  readonly file: string;
  readonly reason: string;
}

/**
 * Applies every CRD of the add-ons and waits until each is Established.
 * @returns the names installed and the problems (empty when all were accepted)
 */
export async function installAddonCrds(
  cluster: Cluster,
  repo: string,
  timeoutMs = 60_000,
): Promise<{ installed: string[]; problems: CrdProblem[] }> {
  const installed: string[] = [];
  const problems: CrdProblem[] = [];
  const applied: { file: string; object: KubeObject }[] = [];
  for (const folder of addonCrdFolders(repo)) {
    for (const { object, file } of loadManifests(folder)) {
      const where = relative(repo, join(folder, file));
      try {
        await cluster.apply(object);
        applied.push({ file: where, object });
      } catch (error) {
        problems.push({ file: where, reason: reasonOf(error) });
      }
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const { file, object } of applied) {
    for (;;) {
      const live = await cluster.get({
        group: 'apiextensions.k8s.io',
        kind: 'CustomResourceDefinition',
        name: object.metadata.name,
      });
      const readiness = live ? crdReadiness(live) : { state: 'waiting' as const, message: 'not found yet' };
      if (readiness.state === 'ready') {
        installed.push(object.metadata.name);
        break;
      }
      if (readiness.state === 'failed' || Date.now() > deadline) {
        problems.push({ file, reason: readiness.message });
        break;
      }
      await new Promise((done) => setTimeout(done, 250));
    }
  }
  return { installed, problems };
}
