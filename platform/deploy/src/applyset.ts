/**
 * Which objects `flotilla deploy` put in a cluster, so that it can find the ones no longer in `dist/<env>/`:
 * the ApplySet scheme of kubectl (KEP-3659). A parent Secret per system and environment records the
 * group-kinds and namespaces its members live in; every applied object carries the label
 * `applyset.kubernetes.io/part-of: <id>`. Pruning lists the members of those group-kinds in those
 * namespaces and deletes the ones this run did not apply.
 * @see https://kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config/#alternative-kubectl-apply-f-directory-prune
 */
import { createHash } from 'node:crypto';
import {
  groupKindString,
  parseGroupKind,
  refKey,
  refOf,
  type GroupKind,
  type KubeObject,
  type ObjectRef,
} from './objects.js';

/** Label and annotation keys of the ApplySet specification (the same as kubectl's). */
export const APPLYSET = {
  /** Label of the parent: the set's id. */
  id: 'applyset.kubernetes.io/id',
  /** Label of every member: the id of the set it belongs to. */
  partOf: 'applyset.kubernetes.io/part-of',
  /** Annotation of the parent: which tool manages the set (`<name>/<version>`). */
  tooling: 'applyset.kubernetes.io/tooling',
  /** Annotation of the parent: the group-kinds of its members, sorted, comma-separated. */
  groupKinds: 'applyset.kubernetes.io/contains-group-kinds',
  /** Annotation of the parent: namespaces of members other than the parent's own, sorted, comma-separated. */
  namespaces: 'applyset.kubernetes.io/additional-namespaces',
} as const;

/** The tooling annotation value: kubectl refuses to touch a set another tool manages, and so do we. */
export const TOOLING = 'flotilla/v1';

/** The ApplySet of one system in one environment. */
export interface ApplySet {
  /** The id members carry in `applyset.kubernetes.io/part-of`. */
  readonly id: string;
  /** The parent Secret's reference. */
  readonly parent: ObjectRef & { readonly namespace: string };
}

/**
 * The ApplySet of a system's environment, its parent a Secret `flotilla-<system>-<env>` in `namespace`.
 */
export function applySetFor(system: string, environment: string, namespace: string): ApplySet {
  const parent = { group: '', kind: 'Secret', name: `flotilla-${system}-${environment}`, namespace };
  return { id: applySetId(parent), parent };
}

/**
 * kubectl's ApplySet id of a parent: `applyset-` + base64url(sha256(`<name>.<namespace>.<kind>.<group>`))
 * + `-v1`, so kubectl and other ApplySet tools recognise the set.
 */
export function applySetId(parent: ObjectRef): string {
  const hash = createHash('sha256')
    .update([parent.name, parent.namespace ?? '', parent.kind, parent.group].join('.'))
    .digest('base64url');
  return `applyset-${hash}-v1`;
}

/** What a parent records: the group-kinds and namespaces to look in for members. */
export interface ApplySetInventory {
  readonly groupKinds: readonly GroupKind[];
  /** Namespaces of namespaced members, the parent's own included. */
  readonly namespaces: readonly string[];
}

/** The inventory of a set of objects (namespaced ones carry their namespace: see `withNamespaces` in deploy). */
export function inventoryOf(objects: readonly ObjectRef[]): ApplySetInventory {
  const kinds = new Map<string, GroupKind>();
  const namespaces = new Set<string>();
  for (const ref of objects) {
    kinds.set(groupKindString(ref), { group: ref.group, kind: ref.kind });
    if (ref.namespace) namespaces.add(ref.namespace);
  }
  return {
    groupKinds: [...kinds.keys()].sort().map((key) => kinds.get(key)!),
    namespaces: [...namespaces].sort(),
  };
}

/** Both inventories together: what to look in while members of an older run may still exist. */
export function unionOf(a: ApplySetInventory, b: ApplySetInventory): ApplySetInventory {
  const kinds = new Map([...a.groupKinds, ...b.groupKinds].map((gk) => [groupKindString(gk), gk]));
  return {
    groupKinds: [...kinds.keys()].sort().map((key) => kinds.get(key)!),
    namespaces: [...new Set([...a.namespaces, ...b.namespaces])].sort(),
  };
}

/** The parent Secret recording an inventory. */
export function parentObject(
  set: ApplySet,
  inventory: ApplySetInventory,
  labels: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: set.parent.name,
      namespace: set.parent.namespace,
      labels: { ...labels, [APPLYSET.id]: set.id },
      annotations: {
        [APPLYSET.tooling]: TOOLING,
        [APPLYSET.groupKinds]: inventory.groupKinds.map(groupKindString).join(','),
        [APPLYSET.namespaces]: inventory.namespaces.filter((ns) => ns !== set.parent.namespace).join(','),
      },
    },
  };
}

/** Thrown when a parent exists that another tool (or another set) owns. */
export class ApplySetError extends Error {
  override name = 'ApplySetError';
}

/** The inventory an existing parent records (empty when there is none yet). */
export function inventoryFromParent(set: ApplySet, parent: KubeObject | undefined): ApplySetInventory {
  if (!parent) return { groupKinds: [], namespaces: [] };
  const annotations = parent.metadata.annotations ?? {};
  const tooling = annotations[APPLYSET.tooling] ?? '';
  if (tooling.split('/')[0] !== TOOLING.split('/')[0]) {
    throw new ApplySetError(
      `Secret ${set.parent.namespace}/${set.parent.name} exists but is not an ApplySet parent managed by flotilla (its ${APPLYSET.tooling} is "${tooling}"): rename or delete it`,
    );
  }
  if (parent.metadata.labels?.[APPLYSET.id] !== set.id) {
    throw new ApplySetError(
      `Secret ${set.parent.namespace}/${set.parent.name} carries another ApplySet id: delete it to start the set anew`,
    );
  }
  const list = (value: string | undefined): string[] => (value ? value.split(',').filter(Boolean) : []);
  return {
    groupKinds: list(annotations[APPLYSET.groupKinds]).map(parseGroupKind),
    namespaces: [...new Set([set.parent.namespace, ...list(annotations[APPLYSET.namespaces])])].sort(),
  };
}

/** An object with the member label of a set added (the manifest itself is not changed). */
export function asMember(object: KubeObject, set: ApplySet): KubeObject {
  return {
    ...object,
    metadata: { ...object.metadata, labels: { ...object.metadata.labels, [APPLYSET.partOf]: set.id } },
  };
}

/**
 * Members found in the cluster that this run does not apply: what `--prune` deletes. The parent itself is
 * never a candidate; objects of other sets never carry this set's id, so they are never listed.
 */
export function pruneCandidates(
  set: ApplySet,
  found: readonly KubeObject[],
  applied: readonly ObjectRef[],
): ObjectRef[] {
  const keep = new Set(applied.map(refKey));
  keep.add(refKey(set.parent));
  return found
    .filter((object) => object.metadata.labels?.[APPLYSET.partOf] === set.id)
    .map(refOf)
    .filter((ref) => !keep.has(refKey(ref)));
}
