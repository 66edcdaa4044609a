/**
 * @flotilla/runtime: the service kit. `createService(spec)` gives a service its config, logger, telemetry,
 * HTTP app, health endpoints and graceful shutdown; the database, messaging and client modules plug in
 * through `svc.lifecycle` and `svc.health` (the contracts in kit.ts).
 *
 * Run a service with the telemetry preload, so OpenTelemetry sees the ESM imports of express, pg and the
 * AWS SDK:
 *
 *     node --import @flotilla/runtime/telemetry dist/main.js
 *     node --conditions=flotilla-source --import tsx --import @flotilla/runtime/telemetry src/main.ts
 *
 * Without it createService starts the SDK itself: server spans still work (the kit makes them), and so
 * does the opt-in express instrumentation (the kit loads express after the SDK starts), but modules the
 * service imported before createService ran (pg, the AWS SDK) are not instrumented.
 */
export type { Health, Lifecycle, Logger, ReadinessCheck, ReadinessCheckOptions, StopHook } from './kit.js';
export { REQUEST_ID_HEADER } from './kit.js';
export { createService, EXIT_CONFIG, type Listening, type Service, type ServiceSpec } from './service.js';
export * from './config/index.js';
export * from './http/index.js';
export * from './health/index.js';
export * from './lifecycle/index.js';
export * from './log/index.js';
export * from './telemetry/index.js';
export * from './database/index.js';
export * from './messaging/index.js';
export * from './inbox/index.js';
export * from './outbox/index.js';
export * from './client/index.js';
export * from './wiring/index.js';
