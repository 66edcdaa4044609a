/**
 * The "Express + pino-http + sdk-node" peer's telemetry, preloaded (`--import`) after ./esm-hook.ts: the
 * OpenTelemetry Node SDK with the HTTP and Express instrumentations, as OpenTelemetry's getting-started
 * guide sets it up. The HTTP instrumentation makes the server span and the HTTP server duration histogram
 * (RED metrics); Express's adds a span per middleware and route handler, its defaults. Sampler, exporters
 * and resource come from the standard OTEL_* variables the suite sets from the kit's environment.
 */
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

const sdk = new NodeSDK({
  instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown());
