/**
 * Where a system runs. The charts extend this with cluster details (domain, certificates, registry);
 * `envFor` needs only what decides a service's variables.
 */

/** The three kinds of place a system runs in. */
export type PlatformKind = 'local' | 'kind' | 'eks';

/**
 * How a service finds its peers.
 * - `static`: a fixed URL per peer (local processes).
 * - `dns`: the Kubernetes Service name, `http://<name>.<namespace>.svc.cluster.local:<port>`.
 * - `cloudmap`: AWS Cloud Map `DiscoverInstances` in the given namespace.
 *   @see https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
 */
export type Discovery =
  | { readonly method: 'static'; /** @default '127.0.0.1' */ readonly host?: string }
  | { readonly method: 'dns' }
  | {
      readonly method: 'cloudmap';
      /** Cloud Map namespace name, e.g. `shop.internal`. */ readonly namespace: string;
    };

/** The database a service gets. */
export type DatabaseSource =
  /** Embedded PGlite, one directory per service under `dataDir`. */
  | { readonly kind: 'embedded'; readonly dataDir: string }
  /** A PostgreSQL server whose URL is in a Secret named `<service>-db` under key `url`. */
  | { readonly kind: 'secret' };

export interface RuntimeEnvironment {
  /** Environment name, a DNS-1035 label: `local`, `kind`, `dev`, `prod`. Part of cloud resource names. */
  readonly name: string;
  readonly platform: PlatformKind;
  /** Kubernetes namespace of the system (also used for `dns` discovery). */
  readonly namespace: string;
  readonly aws: {
    /** @see https://docs.aws.amazon.com/general/latest/gr/rande.html */
    readonly region: string;
    /** 12-digit account id; `000000000000` for emulators. */
    readonly accountId: string;
  };
  /**
   * SQS/SNS endpoint of an emulator. Unset means real AWS.
   * @default - real AWS endpoints
   */
  readonly messagingEndpoint?: string;
  readonly discovery: Discovery;
  readonly telemetry: {
    /** OTLP/HTTP endpoint of the collector (or the local trace sink). */
    readonly otlpEndpoint: string;
    /**
     * Fraction of new traces sampled (parent-based, so a sampled caller's trace is always continued).
     * @default 1
     */
    readonly samplingRatio?: number;
  };
  readonly database: DatabaseSource;
  /** @default 'info' */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /**
   * Graceful shutdown timing. `drainSeconds` keeps serving after readiness fails so load balancers stop
   * sending; `timeoutSeconds` bounds the whole shutdown.
   * @default { drainSeconds: 5, timeoutSeconds: 20 } (local: { drainSeconds: 0, timeoutSeconds: 10 })
   */
  readonly shutdown?: { readonly drainSeconds: number; readonly timeoutSeconds: number };
  /**
   * Port overrides per service for `static` discovery, e.g. ephemeral ports in tests.
   * @default - each service's port from the model
   */
  readonly ports?: Readonly<Record<string, number>>;
  /** Version label for `service.version`. @default '0.0.0-dev' */
  readonly version?: string;
}

/** Shutdown timing of an environment, with defaults applied. */
export function shutdownTiming(env: RuntimeEnvironment): { drainSeconds: number; timeoutSeconds: number } {
  return (
    env.shutdown ??
    (env.platform === 'local'
      ? { drainSeconds: 0, timeoutSeconds: 10 }
      : { drainSeconds: 5, timeoutSeconds: 20 })
  );
}
