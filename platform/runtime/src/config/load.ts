import { ENV } from '@flotilla/model';
import { z } from 'zod';
import { databaseConfigOf, DATABASE_TIMEOUT_VARS, RETENTION_VARS, type DatabaseConfig } from './database.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { baseConfigShape, type InstrumentationName } from './schema.js';

/** Environment variables as Node gives them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A service's own variables: a zod shape keyed by variable name, e.g. `{ PAYMENT_URL: z.url() }`. */
export type ConfigShape = Readonly<Record<string, z.ZodType>>;

/** Telemetry settings, from the standard `OTEL_*` variables. */
export interface TelemetryConfig {
  /** `OTEL_SDK_DISABLED`. @default false */
  readonly disabled: boolean;
  /** `service.name`: `OTEL_SERVICE_NAME`, else `SERVICE_NAME`. */
  readonly serviceName: string;
  /** Full OTLP traces URL, or undefined when nothing is exported (trace ids still appear in logs). */
  readonly tracesUrl: string | undefined;
  /** Full OTLP metrics URL, or undefined when metrics are not exported. */
  readonly metricsUrl: string | undefined;
  /** @default 'http/protobuf' */
  readonly protocol: 'http/protobuf' | 'http/json';
  /** @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration */
  readonly sampler:
    | 'always_on'
    | 'always_off'
    | 'traceidratio'
    | 'parentbased_always_on'
    | 'parentbased_always_off'
    | 'parentbased_traceidratio';
  /** @default 1 */
  readonly samplerRatio: number;
  /** Extra resource attributes from `OTEL_RESOURCE_ATTRIBUTES`. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** @default 60000 */
  readonly metricExportIntervalMs: number;
  /** The batch span processor's settings, from `OTEL_BSP_*`. */
  readonly spanBatch: {
    /** `OTEL_BSP_SCHEDULE_DELAY`. @default 5000 */
    readonly scheduledDelayMillis: number;
    /** `OTEL_BSP_EXPORT_TIMEOUT`. @default 30000 */
    readonly exportTimeoutMillis: number;
    /** `OTEL_BSP_MAX_QUEUE_SIZE`. @default 2048 */
    readonly maxQueueSize: number;
    /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, capped at the queue size. @default 64 (the specification's: 512) */
    readonly maxExportBatchSize: number;
  };
  /** `OTEL_NODE_ENABLED_INSTRUMENTATIONS`. @default ['http', 'aws-sdk', 'pg'] */
  readonly instrumentations: readonly InstrumentationName[];
}

/** The base configuration every service gets, in a typed structure. */
export interface BaseConfig {
  readonly service: {
    /** `SERVICE_NAME`. */
    readonly name: string;
    /** `SERVICE_VERSION`. @default '0.0.0-dev' */
    readonly version: string;
    /** `FLOTILLA_ENVIRONMENT`, e.g. `local` or `prod`. */
    readonly environment: string;
    /** `FLOTILLA_PLATFORM`. @default - unset */
    readonly platform: 'local' | 'kind' | 'eks' | undefined;
  };
  /** `PORT`; 0 picks a free port. */
  readonly port: number;
  /** `LOG_LEVEL`. @default 'info' */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly shutdown: {
    /** `SHUTDOWN_DRAIN_MS`: keep serving this long after readiness fails. @default 0 */
    readonly drainMs: number;
    /** `SHUTDOWN_TIMEOUT_MS`: deadline of the whole shutdown. @default 10000 */
    readonly timeoutMs: number;
  };
  /**
   * Pod identity from the Kubernetes downward API (`POD_NAME`, `POD_NAMESPACE`, `NODE_NAME`).
   * @see https://kubernetes.io/docs/concepts/workloads/pods/downward-api/
   */
  readonly kubernetes: {
    readonly podName: string | undefined;
    readonly namespace: string | undefined;
    readonly nodeName: string | undefined;
  };
  readonly telemetry: TelemetryConfig;
  readonly http: {
    /**
     * `FLOTILLA_CHECK_RESPONSES`: check each response of a declared route against its declaration.
     * @default - true, except on `FLOTILLA_PLATFORM=eks`
     */
    readonly checkResponses: boolean;
  };
  /** Deadlines of the service database's calls and retention of the kit's tables (`DATABASE_*`, `*_RETENTION_HOURS`). */
  readonly database: DatabaseConfig;
}

/** Base config plus the service's own variables (keyed by variable name). */
export type Config<S extends ConfigShape = Record<never, never>> = BaseConfig & {
  readonly [K in keyof S]: z.output<S[K]>;
};

/**
 * Reads and validates the environment: the base variables plus `extension`, the service's own.
 * Throws one {@link ConfigError} listing every missing or invalid variable, with what was expected.
 *
 * @param extension zod schemas of the service's own variables, keyed by variable name.
 * @param env @default process.env
 */
export function loadConfig<S extends ConfigShape = Record<never, never>>(
  extension?: S,
  env: Env = process.env,
): Config<S> {
  const clash = Object.keys(extension ?? {}).filter((k) => k in baseConfigShape);
  if (clash.length > 0) {
    throw new ConfigError(
      clash.map((variable) => ({
        variable,
        message: 'is a base variable the runtime already reads; remove it from the service config schema',
      })),
    );
  }
  const schema = z.object({ ...baseConfigShape, ...(extension ?? {}) });
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(issuesOf(result.error, env));

  const v = result.data as z.output<z.ZodObject<typeof baseConfigShape>> & Record<string, unknown>;
  const base = toBaseConfig(v);
  const own: Record<string, unknown> = {};
  for (const key of Object.keys(extension ?? {})) own[key] = v[key];
  return { ...own, ...base } as Config<S>;
}

function issuesOf(error: z.ZodError, env: Env): ConfigIssue[] {
  const byVar = new Map<string, string>();
  for (const issue of error.issues) {
    const variable = String(issue.path[0] ?? '(root)');
    if (byVar.has(variable)) continue; // the first problem per variable is the one to fix
    const raw = env[variable];
    const shown =
      raw === undefined ? '' : ` (got ${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)})`;
    const message =
      raw === undefined && !issue.message.startsWith('missing') ? `missing: ${issue.message}` : issue.message;
    byVar.set(variable, `${message}${shown}`);
  }
  return [...byVar].map(([variable, message]) => ({ variable, message }));
}

function toBaseConfig(v: z.output<z.ZodObject<typeof baseConfigShape>>): BaseConfig {
  return {
    service: {
      name: v[ENV.serviceName],
      version: v[ENV.serviceVersion],
      environment: v[ENV.environment],
      platform: v[ENV.platform],
    },
    port: v[ENV.port],
    logLevel: v[ENV.logLevel],
    shutdown: { drainMs: v[ENV.shutdownDrainMs], timeoutMs: v[ENV.shutdownTimeoutMs] },
    kubernetes: { podName: v[ENV.podName], namespace: v[ENV.podNamespace], nodeName: v[ENV.nodeName] },
    http: { checkResponses: v.FLOTILLA_CHECK_RESPONSES ?? v[ENV.platform] !== 'eks' },
    telemetry: telemetryOf(
      v as unknown as Record<string, unknown>,
      v.OTEL_SERVICE_NAME ?? v[ENV.serviceName],
    ),
    database: databaseConfigOf(v as unknown as Record<string, unknown>),
  };
}

/**
 * Only the database settings of `env` (for `useDatabase`, which gets the environment, not the config).
 * @throws ConfigError naming each invalid variable
 */
export function loadDatabaseConfig(env: Env): DatabaseConfig {
  const names = [...Object.values(DATABASE_TIMEOUT_VARS), ...Object.values(RETENTION_VARS)];
  const shape = Object.fromEntries(names.map((name) => [name, baseConfigShape[name]]));
  const result = z.object(shape).safeParse(env);
  if (!result.success) throw new ConfigError(issuesOf(result.error, env));
  return databaseConfigOf(result.data);
}

function telemetryOf(v: Record<string, unknown>, serviceName: string): TelemetryConfig {
  const base = v.OTEL_EXPORTER_OTLP_ENDPOINT as string | undefined;
  const signalUrl = (explicit: unknown, path: string) =>
    (explicit as string | undefined) ??
    (base === undefined ? undefined : `${base.replace(/\/+$/, '')}${path}`);
  return {
    disabled: v.OTEL_SDK_DISABLED as boolean,
    serviceName,
    tracesUrl:
      v.OTEL_TRACES_EXPORTER === 'none'
        ? undefined
        : signalUrl(v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, '/v1/traces'),
    metricsUrl:
      v.OTEL_METRICS_EXPORTER === 'none'
        ? undefined
        : signalUrl(v.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, '/v1/metrics'),
    protocol: v.OTEL_EXPORTER_OTLP_PROTOCOL as TelemetryConfig['protocol'],
    sampler: v.OTEL_TRACES_SAMPLER as TelemetryConfig['sampler'],
    samplerRatio: v.OTEL_TRACES_SAMPLER_ARG as number,
    resourceAttributes: v.OTEL_RESOURCE_ATTRIBUTES as Record<string, string>,
    metricExportIntervalMs: v.OTEL_METRIC_EXPORT_INTERVAL as number,
    spanBatch: {
      scheduledDelayMillis: v.OTEL_BSP_SCHEDULE_DELAY as number,
      exportTimeoutMillis: v.OTEL_BSP_EXPORT_TIMEOUT as number,
      maxQueueSize: v.OTEL_BSP_MAX_QUEUE_SIZE as number,
      // The specification: a batch size above the queue size is the queue size.
      maxExportBatchSize: Math.min(
        v.OTEL_BSP_MAX_EXPORT_BATCH_SIZE as number,
        v.OTEL_BSP_MAX_QUEUE_SIZE as number,
      ),
    },
    instrumentations: v.OTEL_NODE_ENABLED_INSTRUMENTATIONS as InstrumentationName[],
  };
}
