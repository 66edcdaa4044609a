/**
 * The Kubernetes objects `flotilla deploy` handles, and how it names them in what it prints.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/
 */

/** Object metadata as the manifests carry it (the fields deploy reads; the rest passes through). */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** One Kubernetes object: `apiVersion`, `kind`, `metadata.name`, and whatever else its kind defines. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

/** A group and kind, the way the API server and kubectl's ApplySets identify a type (`Deployment.apps`). */
export interface GroupKind {
  /** API group; `''` for the core group (Namespace, Service, Secret...). */
  readonly group: string;
  readonly kind: string;
}

/** What identifies one object in a cluster. */
export interface ObjectRef extends GroupKind {
  readonly name: string;
  /** Unset for cluster-scoped objects (and for namespaced ones that take the context's namespace). */
  readonly namespace?: string;
}

/** The API group of an `apiVersion` (`apps/v1` -> `apps`, `v1` -> `''`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The reference of an object. */
export function refOf(object: KubeObject): ObjectRef {
  const { name, namespace } = object.metadata;
  return {
    group: groupOf(object.apiVersion),
    kind: object.kind,
    name,
    ...(namespace ? { namespace } : {}),
  };
}

/** `Kind.group` (`Kind` alone for the core group): the ApplySet spelling of a group-kind. */
export function groupKindString({ group, kind }: GroupKind): string {
  return group ? `${kind}.${group}` : kind;
}

/** Parses {@link groupKindString}'s output back (`Deployment.apps`, `Secret`). */
export function parseGroupKind(text: string): GroupKind {
  const dot = text.indexOf('.');
  return dot < 0 ? { group: '', kind: text } : { kind: text.slice(0, dot), group: text.slice(dot + 1) };
}

/** How an object is named in output: `Deployment shop/orders`, `ClusterRole shop-otel-collector`. */
export function describe(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** A stable key of an object reference, for sets and maps. */
export function refKey(ref: ObjectRef): string {
  return `${groupKindString(ref)}|${ref.namespace ?? ''}|${ref.name}`;
}
