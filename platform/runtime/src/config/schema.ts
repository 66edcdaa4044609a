/**
 * The base configuration every service reads. Variable names come from `ENV` in @flotilla/model, the same
 * names `envFor` writes, so the runtime and the charts cannot drift apart.
 */
import { ENV } from '@flotilla/model';
import { z } from 'zod';
import { DEFAULT_DATABASE_TIMEOUTS } from '../database/timeouts.js';
import {
  DEFAULT_INBOX_RETENTION_HOURS,
  DEFAULT_OUTBOX_DEAD_LETTER_RETENTION_HOURS,
  DEFAULT_OUTBOX_SENT_RETENTION_HOURS,
} from '../database/retention.js';
import { DATABASE_TIMEOUT_VARS, RETENTION_VARS } from './database.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration */
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The library instrumentations the kit bundles, by the names `OTEL_NODE_ENABLED_INSTRUMENTATIONS` uses
 * (the package name without `@opentelemetry/instrumentation-`).
 */
const INSTRUMENTATIONS = ['http', 'express', 'aws-sdk', 'pg'] as const;
export type InstrumentationName = (typeof INSTRUMENTATIONS)[number];

/** A non-negative integer given as a decimal string. */
function intVar(what: string, min = 0, max = Number.MAX_SAFE_INTEGER): z.ZodType<number, string> {
  return z
    .string({ error: (i) => (i.input === undefined ? `missing: expected ${what}` : `expected ${what}`) })
    .trim()
    .regex(/^\d+$/, { error: `expected ${what} (digits only)` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `expected ${what} between ${min} and ${max}` });
}

/** A required non-empty string. */
function requiredVar(what: string): z.ZodType<string, string> {
  return z
    .string({ error: `missing: expected ${what}` })
    .trim()
    .min(1, { error: `empty: expected ${what}` });
}

/** An optional string; empty counts as unset (Kubernetes often renders unset fields as ""). */
function optionalVar(): z.ZodType<string | undefined> {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
}

function urlVar(what: string): z.ZodType<string | undefined> {
  return optionalVar().refine((v) => v === undefined || URL.canParse(v), {
    error: `expected ${what}, an absolute URL such as http://otel-collector:4318`,
  });
}

function enumVar<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? fallback : v.trim().toLowerCase()))
    .pipe(z.enum(values, { error: `expected one of ${values.join(', ')}` }));
}

/** A comma-separated list of names from `values`; unset or empty gives `fallback`. */
function listVar<const T extends readonly [string, ...string[]]>(values: T, fallback: readonly T[number][]) {
  return z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v.trim() === ''
        ? [...fallback]
        : v
            .split(',')
            .map((name) => name.trim().toLowerCase())
            .filter((name) => name !== ''),
    )
    .pipe(
      z.array(
        z.enum(values, {
          error: (i) =>
            `unknown name ${JSON.stringify(i.input)}: expected a comma-separated list of ${values.join(', ')}`,
        }),
      ),
    );
}

/** An optional integer; unset or empty gives `fallback`. */
function defaultedInt(what: string, fallback: number, min = 0): z.ZodType<number> {
  return optionalVar()
    .transform((v) => v ?? String(fallback))
    .pipe(intVar(what, min));
}

function booleanVar(fallback: boolean): z.ZodType<boolean> {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? String(fallback) : v.trim().toLowerCase()))
    .pipe(z.enum(['true', 'false'], { error: 'expected true or false' }))
    .transform((v) => v === 'true');
}

/**
 * Zod shape of the base variables. Required ones have no default; optional ones document theirs.
 */
export const baseConfigShape = {
  /** DNS-1035 name of the service. Required. */
  [ENV.serviceName]: requiredVar('the service name, a DNS-1035 label such as "orders"').pipe(
    z.string().regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, {
      error: 'expected a DNS-1035 label (lower-case letters, digits and "-", starting with a letter)',
    }),
  ),
  /** @default '0.0.0-dev' */
  [ENV.serviceVersion]: optionalVar().transform((v) => v ?? '0.0.0-dev'),
  /** TCP port of the HTTP server (health endpoints included). `0` picks a free port (tests). Required. */
  [ENV.port]: intVar('an integer port 0-65535', 0, 65535),
  /** Environment name (`local`, `dev`, `prod`, ...). Required. */
  [ENV.environment]: requiredVar('the environment name, e.g. "local" or "prod"'),
  /** `local`, `kind` or `eks`. @default - unset */
  [ENV.platform]: optionalVar().pipe(
    z.enum(['local', 'kind', 'eks'], { error: 'expected one of local, kind, eks' }).optional(),
  ),
  /** pino level. @default 'info' */
  [ENV.logLevel]: enumVar(LOG_LEVELS, 'info'),
  /** Time to keep serving after readiness fails, so load balancers stop sending. @default 0 */
  [ENV.shutdownDrainMs]: optionalVar()
    .transform((v) => v ?? '0')
    .pipe(intVar('a duration in milliseconds')),
  /** Deadline for the whole graceful shutdown (drain included). @default 10000 */
  [ENV.shutdownTimeoutMs]: optionalVar()
    .transform((v) => v ?? '10000')
    .pipe(intVar('a duration in milliseconds', 1)),
  /**
   * Whether every response of a declared route is checked against its declaration (`Service.serve`), a
   * mismatch answered with 500 and logged. `true` or `false`. @default - true, except on `FLOTILLA_PLATFORM=eks`
   * (a parse per response is a cost production does not pay unless asked)
   */
  FLOTILLA_CHECK_RESPONSES: optionalVar().pipe(
    z
      .enum(['true', 'false'], { error: 'expected true or false' })
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true')),
  ),
  /** Kubernetes downward API values; resource attributes when present. @default - unset */
  [ENV.podName]: optionalVar(),
  [ENV.podNamespace]: optionalVar(),
  [ENV.nodeName]: optionalVar(),
  /** @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/ */
  OTEL_SDK_DISABLED: booleanVar(false),
  /** Overrides SERVICE_NAME as `service.name` when set. @default - SERVICE_NAME */
  OTEL_SERVICE_NAME: optionalVar(),
  /** Base OTLP/HTTP endpoint; `/v1/traces` and `/v1/metrics` are appended. @default - no export (ids still in logs) */
  OTEL_EXPORTER_OTLP_ENDPOINT: urlVar('the OTLP/HTTP base endpoint'),
  /** Full traces URL; wins over the base endpoint. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: urlVar('the OTLP/HTTP traces URL'),
  /** Full metrics URL; wins over the base endpoint. */
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: urlVar('the OTLP/HTTP metrics URL'),
  /** Only the HTTP protocols are bundled (gRPC would add a second transport stack). @default 'http/protobuf' */
  OTEL_EXPORTER_OTLP_PROTOCOL: enumVar(['http/protobuf', 'http/json'] as const, 'http/protobuf'),
  /** `otlp` or `none`. @default 'otlp' */
  OTEL_TRACES_EXPORTER: enumVar(['otlp', 'none'] as const, 'otlp'),
  /** `otlp` or `none`. @default 'otlp' */
  OTEL_METRICS_EXPORTER: enumVar(['otlp', 'none'] as const, 'otlp'),
  /** @default 'parentbased_traceidratio' (with ratio 1: every new trace is sampled) */
  OTEL_TRACES_SAMPLER: enumVar(SAMPLERS, 'parentbased_traceidratio'),
  /** Ratio for the `*traceidratio` samplers. @default 1 */
  OTEL_TRACES_SAMPLER_ARG: optionalVar()
    .transform((v) => (v === undefined ? 1 : Number(v)))
    .refine((n) => Number.isFinite(n) && n >= 0 && n <= 1, { error: 'expected a number between 0 and 1' }),
  /** `key=value,key=value` extra resource attributes. @default - none */
  OTEL_RESOURCE_ATTRIBUTES: optionalVar()
    .refine((v) => v === undefined || v.split(',').every((kv) => /^[^=\s]+=.*$/.test(kv.trim())), {
      error: 'expected comma-separated key=value pairs, e.g. deployment.environment.name=prod',
    })
    .transform((v) => parseResourceAttributes(v)),
  /**
   * Which library instrumentations run, as `@opentelemetry/auto-instrumentations-node` reads this variable.
   * The kit traces its own HTTP server, peer calls and messages; these cover the libraries under them.
   * `http` traces outgoing `node:http` calls made inside a trace; `express` adds a span per route handler
   * (the kit's server span already carries the route, so it is off by default: it wraps every layer).
   * @default 'http,aws-sdk,pg'
   * @see https://opentelemetry.io/docs/zero-code/js/configuration/#excluding-instrumentation-libraries
   */
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: listVar(INSTRUMENTATIONS, ['http', 'aws-sdk', 'pg']),
  // The batch span processor's settings, by the specification's names: SDK 3.x's processors take options
  // only and no longer read these variables, so the kit reads and validates them.
  // https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#batch-span-processor
  /** Delay between two consecutive exports. @default 5000 */
  OTEL_BSP_SCHEDULE_DELAY: defaultedInt('a duration in milliseconds', 5000),
  /** How long an export may run before it is cancelled. @default 30000 */
  OTEL_BSP_EXPORT_TIMEOUT: defaultedInt('a duration in milliseconds', 30000, 1),
  /** Spans buffered before new ones are dropped. @default 2048 */
  OTEL_BSP_MAX_QUEUE_SIZE: defaultedInt('a span count', 2048, 1),
  /**
   * Spans per export; at most the queue size. Smaller than the specification's 512 on purpose: the processor
   * exports as soon as this many spans wait, from inside the `span.end()` that filled the batch, and the
   * OTLP exporter serializes the whole batch there, on the event loop. With 512 spans that made stretches
   * of 10-19 ms in a profile of the benchmark's kit (GET at 3000 req/s, 10% sampled), every request due
   * meanwhile waiting behind them; with 64 they left the profile, and A/B runs measured no CPU or
   * throughput cost (e2e/bench/README.md).
   * @default 64
   * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#batch-span-processor
   */
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: defaultedInt('a span count', 64, 1),
  /** Interval between metric exports. @default 60000 */
  OTEL_METRIC_EXPORT_INTERVAL: defaultedInt('a duration in milliseconds', 60000, 1),
  // The service database's deadlines and how long the kit's tables keep rows (see config/database.ts).
  /** @default 5000 @see https://node-postgres.com/apis/pool */
  [DATABASE_TIMEOUT_VARS.connectMs]: defaultedInt(
    'a duration in milliseconds',
    DEFAULT_DATABASE_TIMEOUTS.connectMs,
  ),
  /** 0: none. @default 10000 @see https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT */
  [DATABASE_TIMEOUT_VARS.statementMs]: defaultedInt(
    'a duration in milliseconds',
    DEFAULT_DATABASE_TIMEOUTS.statementMs,
  ),
  /** 0: none. @default 30000 @see https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-IDLE-IN-TRANSACTION-SESSION-TIMEOUT */
  [DATABASE_TIMEOUT_VARS.idleInTransactionMs]: defaultedInt(
    'a duration in milliseconds',
    DEFAULT_DATABASE_TIMEOUTS.idleInTransactionMs,
  ),
  /** 0: kept forever. @default 360 (15 days: SQS's longest retention plus a day) */
  [RETENTION_VARS.inboxHours]: defaultedInt('a number of hours', DEFAULT_INBOX_RETENTION_HOURS),
  /** 0: kept forever. @default 24 */
  [RETENTION_VARS.outboxSentHours]: defaultedInt('a number of hours', DEFAULT_OUTBOX_SENT_RETENTION_HOURS),
  /** 0: kept forever. @default 336 (14 days, like a dead-letter queue) */
  [RETENTION_VARS.outboxDeadLetterHours]: defaultedInt(
    'a number of hours',
    DEFAULT_OUTBOX_DEAD_LETTER_RETENTION_HOURS,
  ),
} as const;

function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    out[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return out;
}
