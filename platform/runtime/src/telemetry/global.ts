import type { Telemetry } from './sdk.js';

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
