/**
 * `flotilla deploy`: applies an environment's rendered manifests (`dist/<env>/`) to a cluster.
 *
 * Server-side apply, one field manager, strict field validation, phase by phase ({@link PHASES}); then it
 * waits for the workloads (unless told not to), and finds the objects an earlier deploy of the same
 * system and environment left behind (ApplySet labels), deleting them only when asked. Every object that
 * fails is reported with the API server's reason; one failure does not stop the others from being tried.
 */
import { basename, resolve } from 'node:path';
import { LABEL } from '@flotilla/charts/names';
import {
  APPLYSET,
  applySetFor,
  asMember,
  inventoryFromParent,
  inventoryOf,
  parentObject,
  pruneCandidates,
  unionOf,
  type ApplySet,
  type ApplySetInventory,
} from './applyset.js';
import type { Cluster } from './cluster.js';
import { loadManifests, ManifestError, type Manifest } from './manifests.js';
import {
  describe,
  groupKindString,
  groupOf,
  refKey,
  refOf,
  type GroupKind,
  type KubeObject,
  type ObjectRef,
} from './objects.js';
import { PHASES, phaseOf, planPhases } from './order.js';
import type { Progress } from './progress.js';
import { crdReadiness, isWaitedFor, rolloutReadiness, type Readiness } from './readiness.js';
import { reasonOf } from './report.js';

/** What to deploy and how. */
export interface DeployOptions {
  /** The environment's manifests folder, `dist/<env>`; its name is the environment's. */
  readonly dir: string;
  /** Server-side dry run: every object is validated and admitted by the server, nothing is stored. @default false */
  readonly dryRun?: boolean;
  /** Wait until every Deployment and StatefulSet is available. @default true */
  readonly wait?: boolean;
  /** Delete the objects of earlier deploys that `dir` no longer holds (they are listed either way). @default false */
  readonly prune?: boolean;
  /** How long to wait for CRDs and workloads, in milliseconds. @default 300000 (5 minutes) */
  readonly timeoutMs?: number;
  /** How often to read an awaited object's status, in milliseconds. @default 2000 */
  readonly pollMs?: number;
  /** Objects applied at once within a phase. @default 4 */
  readonly concurrency?: number;
}

/** An object that failed (to apply, to become ready, to be pruned) and why, in the API server's words. */
export interface Failure {
  readonly ref: ObjectRef;
  readonly reason: string;
}

/** What a deploy did. */
export interface DeployResult {
  readonly system: string;
  readonly environment: string;
  /** Objects the server accepted (stored, or validated in a dry run). */
  readonly applied: readonly ObjectRef[];
  /** Everything that failed; the deploy failed when this is not empty. */
  readonly failures: readonly Failure[];
  /** Custom resources a dry run could not check because their CRD is created by this same deploy. */
  readonly skipped: readonly Failure[];
  /** Objects of earlier deploys no longer in `dir`. */
  readonly pruneCandidates: readonly ObjectRef[];
  /** The candidates deleted (with `prune`). */
  readonly pruned: readonly ObjectRef[];
  /** The API server's warnings (deprecated APIs, Pod Security warnings), one per object and warning. */
  readonly warnings: readonly string[];
}

/**
 * Deploys `options.dir` (its manifests, read beforehand or here) to `cluster`, reporting progress per object.
 * @throws ManifestError when the manifests cannot be read (nothing is applied then)
 */
export async function deploy(
  cluster: Cluster,
  options: DeployOptions,
  progress: Progress,
  manifests: readonly Manifest[] = loadManifests(options.dir),
): Promise<DeployResult> {
  return new DeployRun(cluster, options, progress).execute(manifests);
}

class DeployRun {
  private readonly failures: Failure[] = [];
  private readonly skipped: Failure[] = [];
  private readonly applied: ObjectRef[] = [];
  private readonly warnings: string[] = [];
  private readonly dryRun: boolean;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  /** Namespaces the manifests create, and whether each exists yet (asked once, for dry runs). */
  private namespacesHere = new Set<string>();
  private readonly namespaceExists = new Map<string, Promise<boolean>>();

  constructor(
    private readonly cluster: Cluster,
    private readonly options: DeployOptions,
    private readonly progress: Progress,
  ) {
    this.dryRun = options.dryRun ?? false;
    this.timeoutMs = options.timeoutMs ?? 300_000;
    this.pollMs = options.pollMs ?? 2_000;
  }

  async execute(read: readonly Manifest[]): Promise<DeployResult> {
    const environment = basename(resolve(this.options.dir));
    const manifests = await this.withNamespaces(read);
    const { system, set } = applySetOf(manifests, this.options.dir, this.cluster.defaultNamespace);
    const wanted = manifests.map((m) => refOf(m.object));
    const previous = inventoryFromParent(set, await this.cluster.get(set.parent, 'v1'));
    const tracked = unionOf(previous, inventoryOf(wanted));
    const definedHere = crdKinds(manifests);
    this.namespacesHere = new Set(
      manifests.filter((m) => phaseOf(m.object) === 'namespaces').map((m) => m.object.metadata.name),
    );

    this.progress.note(
      `${this.dryRun ? 'dry run: ' : ''}deploying ${manifests.length} objects of ${system}/${environment} to context ` +
        `"${this.cluster.context}" (${this.cluster.server})`,
    );
    const phases = planPhases(manifests);
    // The parent must record every kind and namespace before any member exists there, so that an
    // interrupted deploy still finds its members next time; it lives in a namespace, so after those.
    let parentWritten = phases[0]?.phase === 'namespaces' ? false : await this.writeParent(set, tracked);
    for (const { phase, manifests: members } of phases) {
      this.progress.note(`-- ${phase} (${members.length})`);
      await pool(members, this.options.concurrency ?? 4, (m) => this.applyOne(m, set, definedHere));
      if (phase === 'namespaces') parentWritten = await this.writeParent(set, tracked);
      if (phase === 'crds' && !this.dryRun)
        await this.waitUntilReady(
          members.map((m) => m.object),
          crdReadiness,
        );
    }
    if ((this.options.wait ?? true) && !this.dryRun) {
      const workloads = manifests.map((m) => m.object).filter((o) => isWaitedFor(o) && this.wasApplied(o));
      if (workloads.length) {
        this.progress.note(
          `-- waiting for ${workloads.length} workload(s), at most ${Math.round(this.timeoutMs / 1000)}s`,
        );
        await this.waitUntilReady(workloads, rolloutReadiness);
      }
    }
    const { candidates, pruned } = await this.prune(set, tracked, wanted, parentWritten);
    return {
      system,
      environment,
      applied: this.applied,
      failures: this.failures,
      skipped: this.skipped,
      pruneCandidates: candidates,
      pruned,
      warnings: this.warnings,
    };
  }

  /** Namespaced objects that name no namespace get the context's, as kubectl does; scope from the server or a CRD here. */
  private async withNamespaces(manifests: readonly Manifest[]): Promise<Manifest[]> {
    const scopes = crdScopes(manifests);
    const out: Manifest[] = [];
    for (const m of manifests) {
      const { object } = m;
      if (object.metadata.namespace) {
        out.push(m);
        continue;
      }
      const gk = { group: groupOf(object.apiVersion), kind: object.kind };
      const scope =
        scopes.get(groupKindString(gk)) ??
        (await this.cluster.scopeOf(gk, object.apiVersion).catch(() => undefined));
      out.push(
        scope === 'Namespaced'
          ? {
              ...m,
              object: {
                ...object,
                metadata: { ...object.metadata, namespace: this.cluster.defaultNamespace },
              },
            }
          : m,
      );
    }
    return out;
  }

  private async applyOne(manifest: Manifest, set: ApplySet, definedHere: ReadonlySet<string>): Promise<void> {
    const { object } = manifest;
    const ref = refOf(object);
    const name = describe(ref);
    this.progress.update(name, line('applying', name));
    const unchecked = this.dryRun ? await this.uncheckable(object, definedHere) : undefined;
    if (unchecked) {
      this.skipped.push({ ref, reason: unchecked });
      this.progress.update(name, line('skipped', name, unchecked));
      return;
    }
    try {
      const result = await this.cluster.apply(asMember(object, set), { dryRun: this.dryRun });
      this.applied.push(ref);
      for (const warning of result.warnings) this.warnings.push(`${name}: ${warning}`);
      this.progress.update(name, line(this.dryRun ? 'valid' : 'applied', name));
    } catch (error) {
      this.fail(ref, reasonOf(error), 'failed');
    }
  }

  /**
   * Why a dry run cannot check an object, if it cannot: a dry run stores nothing, so an object whose CRD or
   * namespace this same deploy creates would be refused for a reason a real deploy does not have.
   */
  private async uncheckable(
    object: KubeObject,
    definedHere: ReadonlySet<string>,
  ): Promise<string | undefined> {
    const ref = refOf(object);
    if (
      definedHere.has(groupKindString(ref)) &&
      !(await this.cluster.scopeOf(ref, object.apiVersion).catch(() => undefined))
    ) {
      return 'its CRD is created by this deploy, so a dry run cannot check it';
    }
    const namespace = object.metadata.namespace;
    if (namespace && this.namespacesHere.has(namespace)) {
      let exists = this.namespaceExists.get(namespace);
      if (exists === undefined) {
        exists = this.cluster.get({ group: '', kind: 'Namespace', name: namespace }, 'v1').then(
          (ns) => ns !== undefined,
          () => true,
        );
        this.namespaceExists.set(namespace, exists);
      }
      if (!(await exists))
        return `its namespace ${namespace} is created by this deploy, so a dry run cannot check it`;
    }
    return undefined;
  }

  /** Writes the ApplySet parent; false (and a failure) when the server refused it. */
  private async writeParent(set: ApplySet, inventory: ApplySetInventory): Promise<boolean> {
    const parent = parentObject(set, inventory, { [LABEL.managedBy]: 'flotilla' });
    // A first dry run: the parent's namespace does not exist yet, and nothing can be pruned anyway.
    if (this.dryRun && (await this.uncheckable(parent, new Set()))) return false;
    try {
      await this.cluster.apply(parent, {
        dryRun: this.dryRun,
      });
      return true;
    } catch (error) {
      this.fail(
        set.parent,
        `cannot record the ApplySet (nothing will be pruned): ${reasonOf(error)}`,
        'failed',
      );
      return false;
    }
  }

  private wasApplied(object: KubeObject): boolean {
    const key = refKey(refOf(object));
    return this.applied.some((ref) => refKey(ref) === key);
  }

  /** Polls each object until it is ready, failed, or the timeout passes; failures are recorded. */
  private async waitUntilReady(
    objects: readonly KubeObject[],
    readiness: (o: KubeObject) => Readiness,
  ): Promise<void> {
    const pending = new Map(objects.filter((o) => this.wasApplied(o)).map((o) => [describe(refOf(o)), o]));
    const last = new Map<string, string>();
    const deadline = Date.now() + this.timeoutMs;
    while (pending.size) {
      await Promise.all(
        [...pending].map(async ([name, object]) => {
          let state: Readiness;
          try {
            const live = await this.cluster.get(refOf(object), object.apiVersion);
            state = live ? readiness(live) : { state: 'failed', message: 'deleted while waiting' };
          } catch (error) {
            state = { state: 'waiting', message: `cannot read it: ${reasonOf(error)}` };
          }
          last.set(name, state.message);
          if (state.state === 'waiting') {
            this.progress.update(name, line('waiting', name, state.message));
            return;
          }
          pending.delete(name);
          if (state.state === 'ready') this.progress.update(name, line('ready', name, state.message));
          else this.fail(refOf(object), state.message, 'not ready');
        }),
      );
      if (!pending.size) break;
      if (Date.now() >= deadline) {
        for (const [name, object] of pending) {
          this.fail(
            refOf(object),
            `not ready after ${Math.round(this.timeoutMs / 1000)}s: ${last.get(name) ?? 'no status yet'}`,
            'timed out',
          );
        }
        break;
      }
      await sleep(Math.min(this.pollMs, Math.max(0, deadline - Date.now())));
    }
  }

  /** Lists the members no longer wanted; deletes them with --prune when nothing failed. */
  private async prune(
    set: ApplySet,
    tracked: ApplySetInventory,
    wanted: readonly ObjectRef[],
    parentWritten: boolean,
  ): Promise<{ candidates: ObjectRef[]; pruned: ObjectRef[] }> {
    const found = await this.members(set, tracked);
    const candidates = pruneCandidates(set, found, wanted);
    const pruned: ObjectRef[] = [];
    if (candidates.length) {
      this.progress.note(
        `-- ${candidates.length} object(s) from an earlier deploy are no longer in ${this.options.dir}:`,
      );
      for (const ref of candidates) this.progress.note(`   ${describe(ref)}`);
    }
    if (!this.options.prune) {
      if (candidates.length) this.progress.note('   run again with --prune to delete them');
      return { candidates, pruned };
    }
    if (this.failures.length || !parentWritten) {
      if (candidates.length)
        this.progress.note(`   not pruning: ${this.failures.length} object(s) failed above`);
      return { candidates, pruned };
    }
    // Reverse phase order: traffic first, namespaces (and everything in them) last.
    const order = (ref: ObjectRef): number =>
      -PHASES.indexOf(phaseOf(found.find((o) => refKey(refOf(o)) === refKey(ref))!));
    for (const ref of [...candidates].sort((a, b) => order(a) - order(b))) {
      const name = describe(ref);
      try {
        await this.cluster.delete(ref, { dryRun: this.dryRun });
        pruned.push(ref);
        this.progress.update(name, line(this.dryRun ? 'would prune' : 'pruned', name));
      } catch (error) {
        this.fail(ref, `cannot delete it: ${reasonOf(error)}`, 'failed');
      }
    }
    if (pruned.length === candidates.length) await this.writeParent(set, inventoryOf(wanted));
    return { candidates, pruned };
  }

  /** The set's members in the cluster; a kind that cannot be listed is a failure (and stops pruning). */
  private members(set: ApplySet, tracked: ApplySetInventory): Promise<KubeObject[]> {
    return findMembers(this.cluster, set, tracked, (gk, error) =>
      this.fail({ ...gk, name: '*' }, `cannot list them to find what to prune: ${reasonOf(error)}`, 'failed'),
    );
  }

  private fail(ref: ObjectRef, reason: string, status: string): void {
    this.failures.push({ ref, reason });
    const name = describe(ref);
    this.progress.update(name, line(status, name, reason));
  }
}

/** One progress line: a status word, the object, and a detail. */
function line(status: string, name: string, detail?: string): string {
  return `${status.padEnd(9)} ${name}${detail ? `  ${detail}` : ''}`;
}

/**
 * The ApplySet an environment's manifests are deployed as: the system is their one
 * `app.kubernetes.io/part-of`, the environment the folder's name, and the parent lives in the namespace
 * holding most of the objects. @throws ManifestError when the manifests name no system, or several
 */
export function applySetOf(
  manifests: readonly Manifest[],
  dir: string,
  defaultNamespace: string,
): { system: string; set: ApplySet } {
  const system = systemOf(manifests, dir);
  return {
    system,
    set: applySetFor(system, basename(resolve(dir)), parentNamespace(manifests, defaultNamespace)),
  };
}

/**
 * Every object in the cluster carrying the set's member label, in the kinds and namespaces an inventory
 * names. A kind that cannot be listed goes to `onError` (default: the error is thrown).
 */
export async function findMembers(
  cluster: Cluster,
  set: ApplySet,
  inventory: ApplySetInventory,
  onError: (gk: GroupKind, error: unknown) => void = (_gk, error) => {
    throw error;
  },
): Promise<KubeObject[]> {
  const selector = `${APPLYSET.partOf}=${set.id}`;
  const found: KubeObject[] = [];
  for (const gk of inventory.groupKinds) {
    try {
      const scope = await cluster.scopeOf(gk);
      if (scope === 'Cluster') found.push(...(await cluster.list(gk, selector)));
      if (scope === 'Namespaced') {
        for (const namespace of inventory.namespaces)
          found.push(...(await cluster.list(gk, selector, namespace)));
      }
    } catch (error) {
      onError(gk, error);
    }
  }
  return found;
}

/** The system the manifests belong to: their one `app.kubernetes.io/part-of`. */
function systemOf(manifests: readonly Manifest[], dir: string): string {
  const systems = new Set(
    manifests.map((m) => m.object.metadata.labels?.[LABEL.partOf]).filter((s): s is string => !!s),
  );
  if (systems.size === 1) return [...systems][0]!;
  throw new ManifestError(
    systems.size === 0
      ? `${dir}: no object carries the label ${LABEL.partOf}, so deploy cannot tell which system's objects to track: synthesize with \`make synth\``
      : `${dir}: objects of several systems (${[...systems].sort().join(', ')}) by ${LABEL.partOf}: deploy one system's dist/<env>/ at a time`,
  );
}

/** Where the ApplySet parent lives: the namespace holding most objects (ties: the first by name). */
function parentNamespace(manifests: readonly Manifest[], fallback: string): string {
  const counts = new Map<string, number>();
  for (const m of manifests) {
    const ns = m.object.metadata.namespace;
    if (ns) counts.set(ns, (counts.get(ns) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return ranked[0]?.[0] ?? fallback;
}

interface CrdShape {
  readonly spec?: {
    readonly group?: string;
    readonly scope?: string;
    readonly names?: { readonly kind?: string };
  };
}

/** Scope of each kind a CRD in the manifests defines (`Kind.group` -> scope). */
function crdScopes(manifests: readonly Manifest[]): Map<string, 'Namespaced' | 'Cluster'> {
  const out = new Map<string, 'Namespaced' | 'Cluster'>();
  for (const { object } of manifests) {
    if (phaseOf(object) !== 'crds') continue;
    const { spec } = object as CrdShape;
    if (spec?.group && spec.names?.kind) {
      out.set(
        groupKindString({ group: spec.group, kind: spec.names.kind }),
        spec.scope === 'Cluster' ? 'Cluster' : 'Namespaced',
      );
    }
  }
  return out;
}

function crdKinds(manifests: readonly Manifest[]): Set<string> {
  return new Set(crdScopes(manifests).keys());
}

/** Runs `work` on every item, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
