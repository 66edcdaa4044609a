export { ServiceLifecycle, type HookFailure, type StartHook } from './lifecycle.js';
export { InFlightRequests } from './in-flight.js';
export {
  gracefulShutdown,
  handleSignals,
  ShutdownError,
  type ShutdownParts,
  type ShutdownResult,
} from './shutdown.js';
export { startPeriodicTask, type PeriodicTask, type PeriodicTaskOptions } from './periodic.js';
