/**
 * `@flotilla/deploy`: `flotilla deploy`, the server-side apply of an environment's `dist/<env>/` to a
 * cluster in dependency order, with waiting, per-object progress and ApplySet pruning.
 */
export * from './applyset.js';
export * from './cluster.js';
export * from './deploy.js';
export * from './manifests.js';
export * from './objects.js';
export * from './order.js';
export * from './progress.js';
export * from './readiness.js';
export * from './report.js';
export { main, parseCommand, parseDuration, UsageError, type Command } from './cli.js';
