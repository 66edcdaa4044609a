export {
  loadConfig,
  loadDatabaseConfig,
  type BaseConfig,
  type Config,
  type ConfigShape,
  type Env,
  type TelemetryConfig,
} from './load.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export { baseConfigShape } from './schema.js';
export { DATABASE_TIMEOUT_VARS, RETENTION_VARS, type DatabaseConfig } from './database.js';
