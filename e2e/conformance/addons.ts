/**
 * The CustomResourceDefinitions of the add-ons the charts use, installed into the conformance API server
 * before any environment is applied (on a real cluster the add-ons' own charts install them): the CRD
 * files of exactly the pinned versions, from the add-on table of `@flotilla/charts`.
 */
import { relative } from 'node:path';
import { allCrdFiles } from '@flotilla/charts';
import { crdReadiness, loadManifestFile, reasonOf, type Cluster, type KubeObject } from '@flotilla/deploy';

/** Every CRD file of every pinned add-on (the add-on table's). */
export function addonCrdFiles(): string[] {
  return allCrdFiles();
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
  for (const path of addonCrdFiles()) {
    for (const { object } of loadManifestFile(path)) {
      const where = relative(repo, path);
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
