import type { BaseConfig } from '../config/load.js';
import { startTelemetry, type Telemetry } from './sdk.js';

// A global symbol, not a module variable: the preload and the service may load this module through
// different specifiers (source vs build), and there must still be only one SDK per process.
const KEY = Symbol.for('flotilla.runtime.telemetry');
type Holder = { [KEY]?: Telemetry };

/** The process's telemetry, if the preload or createService started it. */
export function currentTelemetry(): Telemetry | undefined {
  return (globalThis as Holder)[KEY];
}

export function setCurrentTelemetry(telemetry: Telemetry): void {
  (globalThis as Holder)[KEY] = telemetry;
}

/**
 * The process's telemetry for a service's configuration: the one already started (by the preload, or an
 * earlier service in the same process), else a new SDK, unless OTEL_SDK_DISABLED. The preload and
 * createService both start it here, so both give spans the same resource.
 */
export function processTelemetry(config: BaseConfig): Telemetry | undefined {
  const existing = currentTelemetry();
  if (existing !== undefined || config.telemetry.disabled) return existing;
  const telemetry = startTelemetry(config.telemetry, {
    serviceVersion: config.service.version,
    environment: config.service.environment,
    podName: config.kubernetes.podName,
    namespace: config.kubernetes.namespace,
    nodeName: config.kubernetes.nodeName,
  });
  setCurrentTelemetry(telemetry);
  return telemetry;
}
