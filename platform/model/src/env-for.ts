import type { RuntimeEnvironment } from './environment.js';
import { shutdownTiming } from './environment.js';
import {
  ENV,
  DATABASE_SECRET_KEY,
  EMULATOR_CREDENTIALS,
  clusterServiceUrl,
  consumeDlqUrlVar,
  consumeHandlerTimeoutVar,
  consumeQueueUrlVar,
  consumeRetryWindowVar,
  consumeVisibilityTimeoutVar,
  databaseSecretName,
  dlqName,
  peerUrlVar,
  queueName,
  queueUrl,
  sendQueueUrlVar,
  topicArn,
  topicArnVar,
  topicName,
} from './names.js';
import { usesMessaging } from './messaging.js';
import type { Service, System } from './types.js';

/** A variable's value: a literal, a key of a Secret, or a field of the pod (Kubernetes downward API). */
export type EnvValue =
  | string
  | { readonly secret: { readonly name: string; readonly key: string } }
  | { readonly field: 'metadata.name' | 'metadata.namespace' | 'spec.nodeName' };

/** Every variable a service gets, in a stable order. */
export type ServiceEnv = Readonly<Record<string, EnvValue>>;

/**
 * The single source of every variable a service needs in an environment: the charts put exactly this
 * into the container and `make dev` into the process. The runtime validates it at start.
 */
export function envFor(system: System, serviceName: string, env: RuntimeEnvironment): ServiceEnv {
  const service = system.service(serviceName);
  const out: Record<string, EnvValue> = {};
  const timing = shutdownTiming(env);

  out[ENV.serviceName] = service.name;
  out[ENV.serviceVersion] = versionOf(env);
  out[ENV.port] = String(portOf(system, service.name, env));
  out[ENV.environment] = env.name;
  out[ENV.platform] = env.platform;
  out[ENV.logLevel] = env.logLevel ?? 'info';
  out[ENV.shutdownDrainMs] = String(timing.drainSeconds * 1000);
  out[ENV.shutdownTimeoutMs] = String(timing.timeoutSeconds * 1000);

  Object.assign(out, telemetryEnv(service.name, env));
  Object.assign(out, discoveryEnv(system, service.calls, env));
  if (usesMessaging(service)) Object.assign(out, awsEnv(env));
  Object.assign(out, messagingEnv(system, service, env));
  if (service.database) Object.assign(out, databaseEnv(service.name, env));
  if (env.platform !== 'local') {
    out[ENV.podName] = { field: 'metadata.name' };
    out[ENV.podNamespace] = { field: 'metadata.namespace' };
    out[ENV.nodeName] = { field: 'spec.nodeName' };
  }
  return out;
}

/** `service.version` of every service in an environment. */
function versionOf(env: RuntimeEnvironment): string {
  return env.version ?? '0.0.0-dev';
}

/** The port a service listens on in an environment (tests may override it for static discovery). */
export function portOf(system: System, serviceName: string, env: RuntimeEnvironment): number {
  return env.ports?.[serviceName] ?? system.service(serviceName).port;
}

function telemetryEnv(service: string, env: RuntimeEnvironment): Record<string, string> {
  return {
    OTEL_SERVICE_NAME: service,
    OTEL_EXPORTER_OTLP_ENDPOINT: env.telemetry.otlpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(env.telemetry.samplingRatio ?? 1),
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${env.name},service.version=${versionOf(env)}`,
  };
}

function discoveryEnv(
  system: System,
  peers: readonly string[],
  env: RuntimeEnvironment,
): Record<string, string> {
  const out: Record<string, string> = { [ENV.discoveryMethod]: env.discovery.method };
  if (env.discovery.method === 'cloudmap') out[ENV.cloudMapNamespace] = env.discovery.namespace;
  for (const peer of peers) {
    const port = portOf(system, peer, env);
    // Static URLs locally; otherwise the cluster DNS name, which is also the fallback for Cloud Map.
    out[peerUrlVar(peer)] =
      env.discovery.method === 'static'
        ? `http://${env.discovery.host ?? '127.0.0.1'}:${port}`
        : clusterServiceUrl(peer, env.namespace, port);
  }
  return out;
}

function awsEnv(env: RuntimeEnvironment): Record<string, string> {
  const out: Record<string, string> = { [ENV.awsRegion]: env.aws.region };
  if (env.messagingEndpoint) {
    out[ENV.sqsEndpoint] = env.messagingEndpoint;
    out[ENV.snsEndpoint] = env.messagingEndpoint;
    out[ENV.awsAccessKeyId] = EMULATOR_CREDENTIALS.accessKeyId;
    out[ENV.awsSecretAccessKey] = EMULATOR_CREDENTIALS.secretAccessKey;
  }
  return out;
}

function messagingEnv(system: System, service: Service, env: RuntimeEnvironment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const topic of service.publishes)
    out[topicArnVar(topic)] = topicArn(env, topicName(system.name, env, topic));
  for (const sub of service.consumes) {
    out[consumeQueueUrlVar(sub.key)] = queueUrl(env, queueName(system.name, env, service.name, sub.key));
    out[consumeDlqUrlVar(sub.key)] = queueUrl(env, dlqName(system.name, env, service.name, sub.key));
    out[consumeVisibilityTimeoutVar(sub.key)] = String(sub.visibilityTimeoutSeconds);
    out[consumeHandlerTimeoutVar(sub.key)] = String(sub.handlerTimeoutSeconds);
    out[consumeRetryWindowVar(sub.key)] = String(sub.retryWindowMinutes);
  }
  for (const target of service.sends) {
    out[sendQueueUrlVar(target.service, target.queue)] = queueUrl(
      env,
      queueName(system.name, env, target.service, target.queue),
    );
  }
  return out;
}

function databaseEnv(service: string, env: RuntimeEnvironment): Record<string, EnvValue> {
  if (env.database.kind === 'embedded')
    return { [ENV.databaseDir]: `${env.database.dataDir.replace(/\/+$/, '')}/${service}` };
  return { [ENV.databaseUrl]: { secret: { name: databaseSecretName(service), key: DATABASE_SECRET_KEY } } };
}

/** Only the literal values of an env (what a local process can receive directly). */
export function literalEnv(env: ServiceEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}
