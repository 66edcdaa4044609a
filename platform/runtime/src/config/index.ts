export {
  loadConfig,
  type BaseConfig,
  type Config,
  type ConfigShape,
  type Env,
  type TelemetryConfig,
} from './load.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export { baseConfigShape } from './schema.js';
