export {
  startTelemetry,
  samplerFor,
  resourceFor,
  instrumentations,
  type Telemetry,
  type TelemetryResourceInfo,
  type StartTelemetryOptions,
} from './sdk.js';
export { currentTelemetry } from './global.js';
