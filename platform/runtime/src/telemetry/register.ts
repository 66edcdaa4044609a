/**
 * The telemetry preload: `node --import @flotilla/runtime/telemetry dist/main.js`.
 *
 * Instrumentations can only patch modules loaded after the SDK starts. In ES modules a static import of
 * `express`, `pg` or the AWS SDK is evaluated before any line of the importing file runs, so starting the
 * SDK inside the service's code is too late for them. This module runs before the service's code: it
 * registers the import-in-the-middle loader hook (how OpenTelemetry sees ESM imports; needs Node >= 20.6
 * for `module.register`) and starts the SDK from the `OTEL_*` variables. `createService` then reuses it.
 *
 * Invalid telemetry variables do not stop the process here: createService reports them with every other
 * invalid variable and exits.
 * @see https://github.com/open-telemetry/opentelemetry-js/blob/main/doc/esm-support.md
 */
import { register } from 'node:module';
import { ENV } from '@flotilla/model';
import { loadTelemetryConfig } from '../config/load.js';
import { currentTelemetry, setCurrentTelemetry } from './global.js';
import { startTelemetry } from './sdk.js';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

if (currentTelemetry() === undefined) {
  let config: ReturnType<typeof loadTelemetryConfig> | undefined;
  try {
    config = loadTelemetryConfig(process.env);
  } catch {
    config = undefined;
  }
  if (config !== undefined && !config.disabled) {
    const env = process.env;
    setCurrentTelemetry(
      startTelemetry(config, {
        serviceVersion: env[ENV.serviceVersion],
        environment: env[ENV.environment],
        podName: env[ENV.podName],
        namespace: env[ENV.podNamespace],
        nodeName: env[ENV.nodeName],
      }),
    );
  }
}
