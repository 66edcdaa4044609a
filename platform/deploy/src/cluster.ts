/**
 * The cluster `flotilla deploy` talks to, through @kubernetes/client-node: the kubeconfig's current (or a
 * named) context, server-side apply with one field manager and strict field validation, reads, label-
 * selected lists and deletes. Bodies go over the wire exactly as the manifests hold them: the client's
 * typed serializer would drop fields it does not know, and strict validation exists to catch those.
 * @see https://kubernetes.io/docs/reference/using-api/server-side-apply/
 * @see https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  HttpMethod,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type Configuration,
  type RequestContext,
  type V1APIResource,
} from '@kubernetes/client-node';
import { groupKindString, type GroupKind, type KubeObject, type ObjectRef } from './objects.js';

/** The field manager of every apply: one owner for every field the manifests set. */
export const FIELD_MANAGER = 'flotilla';

/** No usable context (no kubeconfig, no current context, an unknown `--context`). */
export class ContextError extends Error {
  override name = 'ContextError';
}

/** An API request that failed, with what the API server said. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** HTTP status (0 when the server could not be reached). */
    readonly status: number,
    /** The server's `Status.reason` (`Invalid`, `Forbidden`, `NotFound`, ...), when it sent one. */
    readonly reason: string | undefined,
    /** The server's `Status.message`, or the transport error. */
    message: string,
  ) {
    super(message);
  }
}

/** Options of a write. */
export interface WriteOptions {
  /** Server-side dry run (`dryRun=All`): validated and admitted, not stored. */
  readonly dryRun?: boolean;
}

/** The answer to a write: the object as stored (or as it would be) and the server's warnings. */
export interface WriteResult {
  readonly object: KubeObject;
  readonly warnings: readonly string[];
}

/** What deploy needs from a cluster; {@link KubeCluster} is the real one. */
export interface Cluster {
  /** The context's name and API server URL, for what deploy prints. */
  readonly context: string;
  readonly server: string;
  /** The namespace of namespaced objects that name none (the context's, else `default`). */
  readonly defaultNamespace: string;
  /** Server-side apply of one object. @throws ApiError */
  apply(object: KubeObject, options?: WriteOptions): Promise<WriteResult>;
  /** The object, or undefined when it does not exist. @throws ApiError */
  get(ref: ObjectRef, apiVersion?: string): Promise<KubeObject | undefined>;
  /** Objects of a group-kind matching a label selector, in one namespace or cluster-wide; [] when the type is not served. */
  list(gk: GroupKind, labelSelector: string, namespace?: string): Promise<KubeObject[]>;
  /** Deletes an object (its dependents are then collected in the background); false when it was already gone. @throws ApiError */
  delete(ref: ObjectRef, options?: WriteOptions): Promise<boolean>;
  /** Whether the server serves a group-kind, and if it is namespaced; undefined when it does not serve it. */
  scopeOf(gk: GroupKind, apiVersion?: string): Promise<'Namespaced' | 'Cluster' | undefined>;
}

/** Which kubeconfig context to use. */
export interface ConnectOptions {
  /** A context of the kubeconfig; @default its current-context */
  readonly context?: string;
}

/**
 * Loads the kubeconfig (`KUBECONFIG`, else `~/.kube/config`, else the in-cluster service account) and
 * selects the context. @throws ContextError naming the problem and the fix
 */
export function loadKubeConfig(options: ConnectOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  const file = process.env.KUBECONFIG || join(homedir(), '.kube', 'config');
  const inCluster =
    process.env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
  if (process.env.KUBECONFIG || existsSync(file)) {
    try {
      kc.loadFromDefault();
    } catch (error) {
      throw new ContextError(`cannot read the kubeconfig ${file}: ${(error as Error).message}`);
    }
  } else if (inCluster) {
    kc.loadFromCluster();
  } else {
    throw new ContextError(
      `no kubeconfig: ${file} does not exist and KUBECONFIG is not set. Point KUBECONFIG at your cluster's ` +
        `kubeconfig (EKS: \`aws eks update-kubeconfig --name <cluster>\`; kind: \`make kind-up\`)`,
    );
  }
  const names = kc.getContexts().map((c) => c.name);
  if (options.context !== undefined) {
    if (!kc.getContextObject(options.context)) {
      throw new ContextError(
        `no context "${options.context}" in the kubeconfig (${names.length ? `contexts: ${names.join(', ')}` : 'it has none'})`,
      );
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentContext() || !kc.getContextObject(kc.getCurrentContext())) {
    throw new ContextError(
      `the kubeconfig has no current context: pass --context <name>${names.length ? ` (contexts: ${names.join(', ')})` : ''} ` +
        'or run `kubectl config use-context <name>`',
    );
  }
  if (!kc.getCurrentCluster()) {
    throw new ContextError(
      `context "${kc.getCurrentContext()}" names a cluster the kubeconfig does not define`,
    );
  }
  return kc;
}

/** A {@link Cluster} reached through a kubeconfig context. */
export function connect(options: ConnectOptions = {}): KubeCluster {
  return KubeCluster.from(loadKubeConfig(options));
}

interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** client-node's object API with the parts deploy builds on made reachable: discovery, paths, transport. */
class ObjectApi extends KubernetesObjectApi {
  static for(kc: KubeConfig): ObjectApi {
    const api = kc.makeApiClient(ObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  /** The context's namespace (else `default`). */
  get namespace(): string {
    return this.defaultNamespace;
  }

  get config(): Configuration {
    return this.configuration;
  }

  /** The URL path of an object (client-node's discovery learns a new CRD's types on a cache miss). */
  pathFor(spec: KubeObject, action: 'patch' | 'read' | 'list' | 'delete'): Promise<string> {
    return this.specUriPath({ ...spec, metadata: { ...spec.metadata } }, action);
  }

  discover(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }
}

/** The Kubernetes API of a kubeconfig context, through @kubernetes/client-node. */
export class KubeCluster implements Cluster {
  private readonly versions = new Map<string, string | undefined>();

  private constructor(
    private readonly api: ObjectApi,
    readonly context: string,
    readonly server: string,
  ) {}

  /** A client for the kubeconfig's current context. */
  static from(kc: KubeConfig): KubeCluster {
    return new KubeCluster(ObjectApi.for(kc), kc.getCurrentContext(), kc.getCurrentCluster()?.server ?? '');
  }

  get defaultNamespace(): string {
    return this.api.namespace;
  }

  async apply(object: KubeObject, options: WriteOptions = {}): Promise<WriteResult> {
    const path = await this.pathOf(object, 'patch');
    const response = await this.call(
      HttpMethod.PATCH,
      path,
      {
        fieldManager: FIELD_MANAGER,
        fieldValidation: 'Strict',
        // Flotilla's manifests are the desired state: fields they set are taken over from other managers
        // (a `kubectl edit`, a `kubectl scale`), as Argo CD's server-side sync does.
        force: 'true',
        ...(options.dryRun ? { dryRun: 'All' } : {}),
      },
      JSON.stringify(object),
      PatchStrategy.ServerSideApply,
    );
    return { object: JSON.parse(response.body) as KubeObject, warnings: warningsOf(response.headers) };
  }

  async get(ref: ObjectRef, apiVersion?: string): Promise<KubeObject | undefined> {
    const version = apiVersion ?? (await this.preferredVersion(ref.group));
    if (!version) return undefined;
    const spec = header(ref, version);
    let path: string;
    try {
      path = await this.pathOf(spec, 'read');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
    try {
      return JSON.parse((await this.call(HttpMethod.GET, path)).body) as KubeObject;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list(gk: GroupKind, labelSelector: string, namespace?: string): Promise<KubeObject[]> {
    const version = await this.preferredVersion(gk.group);
    if (!version || !(await this.scopeOf(gk, version))) return [];
    const path = await this.pathOf(
      { apiVersion: version, kind: gk.kind, metadata: { name: '', ...(namespace ? { namespace } : {}) } },
      'list',
    );
    const items: KubeObject[] = [];
    let next: string | undefined;
    do {
      const page = JSON.parse(
        (
          await this.call(HttpMethod.GET, path, {
            labelSelector,
            limit: '500',
            ...(next ? { continue: next } : {}),
          })
        ).body,
      ) as { items?: Omit<KubeObject, 'apiVersion' | 'kind'>[]; metadata?: { continue?: string } };
      // List items carry no apiVersion/kind of their own.
      for (const item of page.items ?? [])
        items.push({ ...item, apiVersion: version, kind: gk.kind } as KubeObject);
      next = page.metadata?.continue || undefined;
    } while (next);
    return items;
  }

  async delete(ref: ObjectRef, options: WriteOptions = {}): Promise<boolean> {
    const version = await this.preferredVersion(ref.group);
    if (!version) return false;
    const path = await this.pathOf(header(ref, version), 'delete');
    // The server reads DeleteOptions from the body when there is one, so dryRun goes there (not the query).
    const body = JSON.stringify({
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Background',
      ...(options.dryRun ? { dryRun: ['All'] } : {}),
    });
    try {
      await this.call(HttpMethod.DELETE, path, {}, body, 'application/json');
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
  }

  async scopeOf(gk: GroupKind, apiVersion?: string): Promise<'Namespaced' | 'Cluster' | undefined> {
    const version = apiVersion ?? (await this.preferredVersion(gk.group));
    if (!version) return undefined;
    try {
      const resource = await this.api.discover(version, gk.kind);
      if (!resource) return undefined;
      return resource.namespaced ? 'Namespaced' : 'Cluster';
    } catch (error) {
      const status = error instanceof ApiException ? error.code : 0;
      if (status === 404) return undefined;
      throw toApiError(error);
    }
  }

  /** The group's preferred version as the server announces it (`v1` for the core group); undefined if not served. */
  private async preferredVersion(group: string): Promise<string | undefined> {
    if (group === '') return 'v1';
    if (this.versions.has(group)) return this.versions.get(group);
    try {
      const body = JSON.parse((await this.call(HttpMethod.GET, `/apis/${group}`)).body) as {
        preferredVersion?: { groupVersion?: string };
      };
      const version = body.preferredVersion?.groupVersion;
      if (version) this.versions.set(group, version);
      return version;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The URL path of an object, through the client's discovery (which learns new CRDs on a miss). */
  private async pathOf(object: KubeObject, action: 'patch' | 'read' | 'list' | 'delete'): Promise<string> {
    try {
      return await this.api.pathFor(object, action);
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) {
        throw new ApiError(
          404,
          'NotFound',
          `the server does not serve ${object.apiVersion} (install the CRD that defines ${groupKindString({ group: object.apiVersion.split('/')[0] ?? '', kind: object.kind })} first)`,
        );
      }
      if (error instanceof Error && error.message.startsWith('Unrecognized API version and kind')) {
        throw new ApiError(
          404,
          'NotFound',
          `the server does not serve kind ${object.kind} in ${object.apiVersion} (install the CRD that defines it first)`,
        );
      }
      throw toApiError(error);
    }
  }

  /** One request with the context's authentication; non-2xx answers become ApiError with the server's Status. */
  private async call(
    method: HttpMethod,
    path: string,
    query: Record<string, string> = {},
    body?: string,
    contentType = 'application/json',
  ): Promise<RawResponse> {
    let ctx: RequestContext = this.api.config.baseServer.makeRequestContext(path, method);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [key, value] of Object.entries(query)) ctx.setQueryParam(key, value);
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType);
      ctx.setBody(body);
    }
    await this.api.config.authMethods.default?.applySecurityAuthentication(ctx);
    for (const middleware of this.api.config.middleware) ctx = await middleware.pre(ctx).toPromise();
    // 429 is the server asking to come back later (API priority and fairness, or a new CRD's storage
    // still initializing): retry as its Retry-After says, for a bounded time.
    const deadline = Date.now() + RETRY_FOR_MS;
    for (;;) {
      let response;
      try {
        response = await this.api.config.httpApi.send(ctx).toPromise();
      } catch (error) {
        throw new ApiError(
          0,
          undefined,
          `cannot reach the API server at ${this.server}: ${(error as Error).message}`,
        );
      }
      const text = await response.body.text();
      if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) {
        return { status: response.httpStatusCode, headers: response.headers, body: text };
      }
      const wait = retryAfterMs(response.headers['retry-after']);
      if (response.httpStatusCode !== 429 || Date.now() + wait > deadline) {
        throw errorFromResponse(response.httpStatusCode, text);
      }
      await new Promise((done) => setTimeout(done, wait));
    }
  }
}

/** How long one request is retried while the server answers 429 Too Many Requests. */
const RETRY_FOR_MS = 30_000;

/** A Retry-After header (seconds) in milliseconds, at least 100 ms and at most 5 s; 1 s when absent. */
function retryAfterMs(header: string | undefined): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && header ? Math.min(5_000, Math.max(100, seconds * 1_000)) : 1_000;
}

function header(ref: ObjectRef, apiVersion: string): KubeObject {
  return {
    apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  };
}

/** An ApiError from an HTTP status and body: the API server's `Status` message and reason when it is one. */
export function errorFromResponse(status: number, body: string): ApiError {
  let parsed: { kind?: string; message?: string; reason?: string } | undefined;
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (parsed?.kind === 'Status' && parsed.message) return new ApiError(status, parsed.reason, parsed.message);
  return new ApiError(status, undefined, body.trim().slice(0, 2000) || 'no message');
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ApiException)
    return errorFromResponse(
      error.code,
      typeof error.body === 'string' ? error.body : JSON.stringify(error.body),
    );
  return new ApiError(0, undefined, error instanceof Error ? error.message : String(error));
}

/** The texts of `Warning: 299 - "..."` response headers (deprecations, Pod Security warnings...). */
export function warningsOf(headers: Readonly<Record<string, string>>): string[] {
  const value = headers.warning ?? headers.Warning;
  if (!value) return [];
  return [...value.matchAll(/\d{3} [^ ]+ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
}
