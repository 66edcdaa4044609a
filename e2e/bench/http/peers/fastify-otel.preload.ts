/**
 * The Fastify peer's telemetry, preloaded (`--import`) after ./esm-hook.ts: the OpenTelemetry Node SDK as
 * @fastify/otel's README registers it (its instrumentation with `registerOnInitialization`, plus the HTTP
 * instrumentation it requires for context propagation, which also records the HTTP server duration
 * histogram: Fastify's RED metrics). Sampler, exporters and resource come from the standard OTEL_*
 * variables the suite sets from the kit's environment (parent-based ratio sampling, OTLP/HTTP protobuf).
 */
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

const sdk = new NodeSDK({
  instrumentations: [
    new HttpInstrumentation(),
    new FastifyOtelInstrumentation({ registerOnInitialization: true }),
  ],
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown());
