export { createLogger, type LoggerOptions, type Logger } from './logger.js';
export { toXrayTraceId, traceFieldsOf, activeTraceFields, type TraceFields } from './trace-ids.js';
export { redactSecrets } from './redact.js';
export { flushAndExit } from './flush.js';
export { WindowBatchedDestination, BATCH_WINDOW_MS } from './destination.js';
