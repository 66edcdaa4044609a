/**
 * The telemetry preload: `node --import @flotilla/runtime/telemetry dist/main.js`.
 *
 * Instrumentations can only patch modules loaded after the SDK starts. In ES modules a static import of
 * `express`, `pg` or the AWS SDK is evaluated before any line of the importing file runs, so starting the
 * SDK inside the service's code is too late for them. This module runs before the service's code: it
 * registers the import-in-the-middle loader hook (how OpenTelemetry sees ESM imports, through
 * `module.register`) and starts the SDK from the service's base variables, as `createService` would
 * (`processTelemetry`); `createService` then reuses it.
 *
 * Invalid variables do not stop the process here: createService reports them with the service's own
 * and exits.
 * @see https://github.com/open-telemetry/opentelemetry-js/blob/main/doc/esm-support.md
 */
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { loadConfig, type BaseConfig } from '../config/load.js';
import { currentTelemetry, processTelemetry } from './global.js';

function baseConfig(): BaseConfig | undefined {
  try {
    return loadConfig(undefined, process.env);
  } catch {
    return undefined;
  }
}

const config = currentTelemetry() === undefined ? baseConfig() : undefined;
if (config !== undefined && !config.telemetry.disabled) {
  // Intercept only the modules an instrumentation hooks (express, pg, the AWS SDK's internals), not every
  // ES module the service loads: wrapping all of them costs start-up time.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  processTelemetry(config);
  // The service's imports must not run before the loader knows which modules to wrap.
  await waitForAllMessagesAcknowledged();
}
