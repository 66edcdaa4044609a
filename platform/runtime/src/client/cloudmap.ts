/**
 * Discovery through AWS Cloud Map: `DiscoverInstances` per peer, cached for a TTL, spread round-robin over
 * the instances, with the last good answer served while Cloud Map is briefly unreachable.
 * @see https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
 */
import { DiscoverInstancesCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import type { Logger } from '../kit.js';
import { awsDeadlineConfig, withAwsDeadline } from '../wiring/aws-deadline.js';
import type { PeerResolver } from './discovery.js';
import { PeerNoInstancesError } from './errors.js';

/** Settings of Cloud Map discovery. */
export interface CloudMapOptions {
  /**
   * The Cloud Map client. Pass one to set the endpoint, region or credentials. For an emulator at a custom
   * `endpoint`, also set `disableHostPrefix: true`: the SDK otherwise prefixes the host of
   * DiscoverInstances with `data-`. Its calls get `deadlineMs` whatever its own timeouts.
   * @default - a client for the default region and credentials chain, 2 attempts in the standard retry mode,
   * each timing out after half of `deadlineMs`; when the SDK's endpoint variables name an endpoint
   * (`AWS_ENDPOINT_URL_SERVICEDISCOVERY`, `AWS_ENDPOINT_URL`), requests go to exactly that URL (host prefix off)
   * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
   */
  readonly client?: ServiceDiscoveryClient;
  /**
   * Time one DiscoverInstances call may take, retries included, in milliseconds. It is then aborted, and
   * the call to the peer goes on with the cached instances or the declared URL: a hung Cloud Map delays a
   * peer call by at most this much, once per `ttlMs`.
   * @default 2000
   * @see https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
   */
  readonly deadlineMs?: number;
  /**
   * How long an answer is used before Cloud Map is asked again, in milliseconds.
   * @default 10000
   */
  readonly ttlMs?: number;
  /**
   * How long the last good answer is served while Cloud Map fails, in milliseconds. Past that (or with no
   * answer yet) calls use the peer's declared URL, the cluster DNS name.
   * @default 300000
   */
  readonly maxStaleMs?: number;
}

interface CacheEntry {
  readonly urls: readonly string[];
  /** When Cloud Map last answered. */
  readonly fetchedAt: number;
  /** When Cloud Map was last asked (answered or not). */
  checkedAt: number;
  next: number;
}

/** Attribute names Cloud Map sets for registered instances. */
const IPV4 = 'AWS_INSTANCE_IPV4';
const PORT = 'AWS_INSTANCE_PORT';
const CNAME = 'AWS_INSTANCE_CNAME';

/** Resolves peers through Cloud Map namespace `namespace`; the Cloud Map service name is the peer name. */
export class CloudMapResolver implements PeerResolver {
  private readonly client: ServiceDiscoveryClient;
  private readonly ownsClient: boolean;
  private readonly ttlMs: number;
  private readonly maxStaleMs: number;
  private readonly deadlineMs: number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<CacheEntry>>();

  constructor(
    private readonly namespace: string,
    private readonly log: Logger,
    options: CloudMapOptions = {},
  ) {
    this.ownsClient = !options.client;
    this.deadlineMs = options.deadlineMs ?? 2000;
    this.client =
      options.client ??
      // A hung Cloud Map must not stall calls; the stale cache or the DNS fallback covers a failure.
      new ServiceDiscoveryClient({
        ...awsDeadlineConfig({ deadlineMs: this.deadlineMs, maxAttempts: 2 }),
        disableHostPrefix: configuredEndpoint(process.env),
      });
    this.ttlMs = options.ttlMs ?? 10_000;
    this.maxStaleMs = options.maxStaleMs ?? 300_000;
  }

  async resolve(peer: string, declaredUrl: string): Promise<string> {
    const now = Date.now();
    let entry = this.cache.get(peer);
    if (!entry || now - entry.checkedAt >= this.ttlMs) entry = await this.refresh(peer, declaredUrl);
    if (entry.urls.length === 0) throw new PeerNoInstancesError(peer, this.namespace);
    const url = entry.urls[entry.next % entry.urls.length] as string;
    entry.next = (entry.next + 1) % entry.urls.length;
    return url;
  }

  /** Releases the client if this resolver created it. */
  close(): void {
    if (this.ownsClient) this.client.destroy();
  }

  /** One request to Cloud Map per peer at a time; concurrent callers share it. */
  private refresh(peer: string, declaredUrl: string): Promise<CacheEntry> {
    let p = this.inflight.get(peer);
    if (!p) {
      p = this.discover(peer, declaredUrl).finally(() => this.inflight.delete(peer));
      this.inflight.set(peer, p);
    }
    return p;
  }

  private async discover(peer: string, declaredUrl: string): Promise<CacheEntry> {
    const previous = this.cache.get(peer);
    try {
      const command = new DiscoverInstancesCommand({
        NamespaceName: this.namespace,
        ServiceName: peer,
        // Healthy instances; all of them if none is healthy (better than failing every call).
        HealthStatus: 'HEALTHY_OR_ELSE_ALL',
      });
      const out = await withAwsDeadline(
        `Cloud Map DiscoverInstances for '${peer}' in namespace '${this.namespace}'`,
        this.deadlineMs,
        (abortSignal) => this.client.send(command, { abortSignal }),
      );
      const fallbackPort = new URL(declaredUrl).port;
      const urls: string[] = [];
      for (const inst of out.Instances ?? []) {
        const attrs = inst.Attributes ?? {};
        const host = attrs[IPV4] ?? attrs[CNAME];
        const port = attrs[PORT] ?? fallbackPort;
        if (host) urls.push(`http://${host}${port ? `:${port}` : ''}`);
      }
      const now = Date.now();
      const entry: CacheEntry = {
        urls,
        fetchedAt: now,
        checkedAt: now,
        // Keep the round-robin position, so refreshes do not send every caller to the first instance.
        next: previous ? previous.next : Math.floor(Math.random() * Math.max(urls.length, 1)),
      };
      this.cache.set(peer, entry);
      return entry;
    } catch (err) {
      const now = Date.now();
      if (isServiceNotFound(err)) {
        // A definite answer: the peer is not registered at all, which is what "no instances" reports.
        const empty: CacheEntry = { urls: [], fetchedAt: now, checkedAt: now, next: 0 };
        this.cache.set(peer, empty);
        return empty;
      }
      if (previous && now - previous.fetchedAt <= this.maxStaleMs) {
        // Ask again only after another TTL, so an outage does not turn every call into a Cloud Map request.
        previous.checkedAt = now;
        this.log.warn(
          { err, peer, namespace: this.namespace, ageMs: now - previous.fetchedAt },
          `Cloud Map DiscoverInstances failed for '${peer}'; serving the cached instances`,
        );
        return previous;
      }
      this.log.warn(
        { err, peer, namespace: this.namespace, fallback: declaredUrl },
        `Cloud Map DiscoverInstances failed for '${peer}' and no recent answer is cached; using ${declaredUrl}`,
      );
      // The declared URL (cluster DNS) stands in until Cloud Map answers; it never counts as a good answer.
      const fallback: CacheEntry = { urls: [declaredUrl], fetchedAt: -Infinity, checkedAt: now, next: 0 };
      this.cache.set(peer, fallback);
      return fallback;
    }
  }
}

/**
 * Whether the SDK will send Cloud Map requests to an endpoint its configuration names (an emulator such as
 * moto, or a VPC endpoint) rather than AWS's regional one. The request must then go to exactly that URL:
 * with its host prefixed by `data-`, as the SDK does for DiscoverInstances, it would not resolve.
 * The SDK reads these variables from the process environment, so this does too.
 */
function configuredEndpoint(env: NodeJS.ProcessEnv): boolean {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return false;
  return Boolean(env.AWS_ENDPOINT_URL_SERVICEDISCOVERY || env.AWS_ENDPOINT_URL);
}

function isServiceNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'ServiceNotFound';
}
