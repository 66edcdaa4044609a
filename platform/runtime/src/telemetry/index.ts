export {
  startTelemetry,
  instrumentations,
  type Telemetry,
  type TelemetryResourceInfo,
  type StartTelemetryOptions,
} from './sdk.js';
export { currentTelemetry } from './global.js';
export { captureTrace, resumeTrace, type SavedTrace } from './deferred.js';
