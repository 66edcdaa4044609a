/**
 * @flotilla/dev: the local stack behind `make dev`. `startStack` runs a whole system on this machine
 * (SQS/SNS emulator, embedded databases, one process per service, gateway, trace sink); the parts are
 * exported for tools and tests that need one of them alone.
 */
export {
  startStack,
  EPHEMERAL_PORTS,
  DEFAULT_SERVICE_NODE_FLAGS,
  type EmulatorFaults,
  type RunningInstance,
  type RunningService,
  type Stack,
  type StackOptions,
} from './stack.js';
export type { PostgresServerOptions } from './databases.js';
export { localEnvironment, type LocalEnvironmentOptions } from './environment.js';
export { startEmulator, type Emulator, type EmulatorOptions } from './emulator.js';
export { provisionMessaging, type ProvisionReport } from './provision.js';
export {
  startGateway,
  gatewayRoutes,
  matchesPrefix,
  type Gateway,
  type GatewayOptions,
  type GatewayRoute,
} from './gateway.js';
export type { UpstreamReadiness, UpstreamState } from './upstreams.js';
export {
  apiDocs,
  publicDocument,
  DOCS_PATH,
  type ApiDocsOptions,
  type DocumentedService,
} from './api-docs.js';
export { startTraceSink, type TraceSink, type TraceSinkOptions } from './trace-sink.js';
export { decodeProtobufTraces, decodeJsonTraces, type SpanRecord, type AttributeValue } from './otlp.js';
export {
  SupervisedProcess,
  type ProcessState,
  type RestartPolicy,
  type SupervisorEvent,
} from './supervisor.js';
export { formatLogLine } from './logs.js';
export { freePorts, waitUntilReady } from './ports.js';
export type { StackFile, StackFileService } from './stack-file.js';
