export { HealthRegistry, type CheckResult, type HealthOptions, type ReadinessReport } from './health.js';
