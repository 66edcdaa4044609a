import { hostname } from 'node:os';
import { createNoopMeter, diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter as OTLPMetricExporterJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPMetricExporterProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  InstrumentType,
  PeriodicExportingMetricReader,
  type IMetricReader,
} from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { TelemetryConfig } from '../config/load.js';
import type { InstrumentationName } from '../config/schema.js';
import {
  KeepMessageTraceContext,
  linkBatchToMessageTraces,
  MessagingHousekeepingSampler,
} from './messaging.js';
import { HttpServerDurations, setHttpServerDurations } from './http-server-durations.js';
import { CompactContextManager } from './compact-context.js';
import { XRayIdGenerator } from './xray-ids.js';

/** What identifies the process in every span and metric, beyond `service.name`. */
export interface TelemetryResourceInfo {
  /** `service.version`. @default - from OTEL_RESOURCE_ATTRIBUTES, else unset */
  readonly serviceVersion?: string;
  /** `deployment.environment.name` (and the older `deployment.environment`). */
  readonly environment?: string;
  /** `k8s.pod.name`, `k8s.namespace.name`, `k8s.node.name` from the downward API, when present. */
  readonly podName?: string;
  readonly namespace?: string;
  readonly nodeName?: string;
}

/** A started OpenTelemetry SDK. */
export interface Telemetry {
  readonly config: TelemetryConfig;
  /** Exports buffered spans and metrics now. */
  flush(): Promise<void>;
  /** Flushes and stops the SDK; later spans are dropped. Idempotent. */
  shutdown(): Promise<void>;
}

/** Sampler from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG. */
function samplerFor(config: Pick<TelemetryConfig, 'sampler' | 'samplerRatio'>): Sampler {
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.samplerRatio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.samplerRatio) });
  }
}

/** Resource attributes: OTEL_RESOURCE_ATTRIBUTES, overridden by the explicit values. */
function resourceFor(config: TelemetryConfig, info: TelemetryResourceInfo): Resource {
  const attrs: Record<string, string> = { ...config.resourceAttributes };
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined && value !== '') attrs[key] = value;
  };
  set('service.name', config.serviceName);
  set('service.version', info.serviceVersion);
  set('service.instance.id', info.podName ?? `${hostname()}:${process.pid}`);
  const environment =
    info.environment ?? attrs['deployment.environment.name'] ?? attrs['deployment.environment'];
  set('deployment.environment.name', environment);
  // The pre-1.27 name, still what X-Ray and many collectors' processors read.
  set('deployment.environment', environment);
  set('k8s.pod.name', info.podName);
  set('k8s.namespace.name', info.namespace);
  set('k8s.node.name', info.nodeName);
  return resourceFromAttributes(attrs);
}

/**
 * The library instrumentations `OTEL_NODE_ENABLED_INSTRUMENTATIONS` asks for, from the four the kit
 * bundles: each one patches a hot path, and the full auto-instrumentation bundle more than halves Express
 * throughput. The kit's own code makes the spans of its HTTP server (see `observeRequests`), peer calls and
 * messages, so `http` is only on the client side here and `express` is opt-in.
 */
export function instrumentations(enabled: readonly InstrumentationName[]) {
  const made: Record<InstrumentationName, () => Instrumentation> = {
    http: () =>
      new HttpInstrumentation({
        // Server spans come from the kit's request observer; this traces outgoing node:http calls.
        disableIncomingRequestInstrumentation: true,
        requireParentforOutgoingSpans: true,
      }),
    // A span per route handler only, not per middleware or router.
    express: () =>
      new ExpressInstrumentation({
        ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
      }),
    'aws-sdk': () =>
      new AwsInstrumentation({
        suppressInternalInstrumentation: true,
        preRequestHook: linkBatchToMessageTraces,
      }),
    pg: () => new PgInstrumentation({ requireParentSpan: true }),
  };
  return [...new Set(enabled)].map((name) => made[name]());
}

/** Options of {@link startTelemetry}. */
export interface StartTelemetryOptions extends TelemetryResourceInfo {
  /** Receives the SDK's own warnings and errors (export failures). @default - silent */
  readonly diagLogger?: DiagLogger;
}

/**
 * Starts the OpenTelemetry Node SDK: X-Ray trace ids, W3C `traceparent` + `X-Amzn-Trace-Id` propagation,
 * batched OTLP/HTTP export, the configured sampler, the enabled instrumentations and a metric reader.
 * Messaging is traced for people to read (./messaging.ts): no traces of a consumer's polls and
 * housekeeping calls, each message in its own trace, batch calls linked to the traces they join.
 * Instrumentations only patch modules loaded after this call; see `@flotilla/runtime/telemetry`.
 * @see https://aws-otel.github.io/docs/getting-started/js-sdk/trace-manual-instr
 */
export function startTelemetry(config: TelemetryConfig, options: StartTelemetryOptions = {}): Telemetry {
  if (options.diagLogger !== undefined) diag.setLogger(options.diagLogger, DiagLogLevel.WARN);
  const spanProcessors: SpanProcessor[] = [];
  if (config.tracesUrl !== undefined) {
    const exporter =
      config.protocol === 'http/json'
        ? new OTLPTraceExporterJson({ url: config.tracesUrl })
        : new OTLPTraceExporterProto({ url: config.tracesUrl });
    spanProcessors.push(new BatchSpanProcessor({ exporter, ...config.spanBatch }));
  } else {
    // Without an exporter spans are still made, so logs carry trace ids and context still propagates.
    spanProcessors.push(new NoopSpanProcessor());
  }
  const metricReaders: IMetricReader[] = [];
  let durations: HttpServerDurations | undefined;
  if (config.metricsUrl !== undefined) {
    const exporter =
      config.protocol === 'http/json'
        ? new OTLPMetricExporterJson({ url: config.metricsUrl })
        : new OTLPMetricExporterProto({ url: config.metricsUrl });
    // The HTTP server's RED histogram, aggregated by the kit (see ./http-server-durations.ts).
    durations = new HttpServerDurations(() =>
      exporter.selectAggregationTemporality(InstrumentType.HISTOGRAM),
    );
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: config.metricExportIntervalMs,
        exportTimeoutMillis: Math.min(30_000, config.metricExportIntervalMs),
        metricProducers: [durations],
      }),
    );
  }
  const enabled = instrumentations(config.instrumentations);
  const sdk = new NodeSDK({
    autoDetectResources: false,
    resource: resourceFor(config, options),
    // AsyncLocalStorage, with contexts that cost the garbage collector less (see ./compact-context.ts).
    contextManager: new CompactContextManager(),
    idGenerator: new XRayIdGenerator(),
    textMapPropagator: new KeepMessageTraceContext(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new AWSXRayPropagator()] }),
    ),
    // A consumer's polls and housekeeping calls are no traces of their own (see ./messaging.ts).
    sampler: new MessagingHousekeepingSampler(samplerFor(config)),
    spanProcessors,
    metricReaders,
    // Logs go to stdout as JSON (pino); the SDK must not start an OTLP log exporter of its own.
    logRecordProcessors: [],
    instrumentations: enabled,
  });
  sdk.start();
  setHttpServerDurations(durations);
  // After start (which hands every instrumentation the SDK's meter provider): the http instrumentation's
  // client duration histogram would time the exporters' own requests too (the kit's peer client records
  // its calls as spans), so it records into a no-op meter.
  for (const instrumentation of enabled) {
    if (instrumentation instanceof HttpInstrumentation)
      instrumentation.setMeterProvider({ getMeter: () => createNoopMeter() });
  }
  let stopped: Promise<void> | undefined;
  return {
    config,
    async flush() {
      await Promise.all(spanProcessors.map((p) => p.forceFlush()));
      await Promise.all(metricReaders.map((r) => r.forceFlush()));
    },
    shutdown() {
      stopped ??= sdk.shutdown();
      return stopped;
    },
  };
}
