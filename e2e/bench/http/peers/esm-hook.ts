/**
 * `--import` first for the OpenTelemetry peers: registers OpenTelemetry's ESM loader hook, so that
 * instrumentations can patch what an ES module imports, as OpenTelemetry documents for ESM applications.
 * @see https://github.com/open-telemetry/opentelemetry-js/blob/main/doc/esm-support.md
 */
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
