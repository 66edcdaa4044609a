/**
 * Every name and address that two parts of Flotilla must agree on is computed here, once: the charts,
 * the runtime and the local stack all call these functions instead of formatting strings themselves.
 */
import type { RuntimeEnvironment } from './environment.js';

/** Variables the runtime reads; `envFor` writes them and the charts put them in containers. */
export const ENV = {
  serviceName: 'SERVICE_NAME',
  serviceVersion: 'SERVICE_VERSION',
  port: 'PORT',
  environment: 'FLOTILLA_ENVIRONMENT',
  platform: 'FLOTILLA_PLATFORM',
  logLevel: 'LOG_LEVEL',
  shutdownDrainMs: 'SHUTDOWN_DRAIN_MS',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  awsRegion: 'AWS_REGION',
  /** Standard AWS SDK variables for service-specific endpoints (emulators). */
  sqsEndpoint: 'AWS_ENDPOINT_URL_SQS',
  snsEndpoint: 'AWS_ENDPOINT_URL_SNS',
  /** Static credentials, set only for emulators (which accept any). */
  awsAccessKeyId: 'AWS_ACCESS_KEY_ID',
  awsSecretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  discoveryMethod: 'DISCOVERY_METHOD',
  cloudMapNamespace: 'CLOUDMAP_NAMESPACE',
  databaseUrl: 'DATABASE_URL',
  databaseDir: 'DATABASE_DIR',
  podName: 'POD_NAME',
  podNamespace: 'POD_NAMESPACE',
  nodeName: 'NODE_NAME',
} as const;

/** Turns a DNS label or dotted name into the upper-case part of a variable name: `order-events` -> `ORDER_EVENTS`. */
export function envKey(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** `PEER_<NAME>_URL`: base URL of a peer service. */
export function peerUrlVar(peer: string): string {
  return `PEER_${envKey(peer)}_URL`;
}

/** `TOPIC_<NAME>_ARN`: ARN of a topic the service publishes to. */
export function topicArnVar(topic: string): string {
  return `TOPIC_${envKey(topic)}_ARN`;
}

/** `CONSUME_<KEY>_QUEUE_URL`: URL of a queue the service consumes (key = topic or command queue name). */
export function consumeQueueUrlVar(key: string): string {
  return `CONSUME_${envKey(key)}_QUEUE_URL`;
}

/** `CONSUME_<KEY>_DLQ_URL`: URL of the dead-letter queue of a consumed queue. */
export function consumeDlqUrlVar(key: string): string {
  return `CONSUME_${envKey(key)}_DLQ_URL`;
}

/** `CONSUME_<KEY>_VISIBILITY_TIMEOUT_SECONDS`: the consumed queue's visibility timeout (the model's). */
export function consumeVisibilityTimeoutVar(key: string): string {
  return `CONSUME_${envKey(key)}_VISIBILITY_TIMEOUT_SECONDS`;
}

/** `CONSUME_<KEY>_HANDLER_TIMEOUT_SECONDS`: how long the handler may run on one message of the queue. */
export function consumeHandlerTimeoutVar(key: string): string {
  return `CONSUME_${envKey(key)}_HANDLER_TIMEOUT_SECONDS`;
}

/**
 * `CONSUME_<KEY>_RETRY_WINDOW_MINUTES`: how long failing messages of the queue are retried; the consumer
 * derives its backoff from it with `retryPolicy`, as the charts derive the redrive count.
 */
export function consumeRetryWindowVar(key: string): string {
  return `CONSUME_${envKey(key)}_RETRY_WINDOW_MINUTES`;
}

/** `SEND_<SERVICE>_<QUEUE>_QUEUE_URL`: URL of another service's command queue. */
export function sendQueueUrlVar(service: string, queue: string): string {
  return `SEND_${envKey(service)}_${envKey(queue)}_QUEUE_URL`;
}

/** Physical SNS topic name: `<system>-<env>-<topic>`. */
export function topicName(system: string, env: Pick<RuntimeEnvironment, 'name'>, topic: string): string {
  return `${system}-${env.name}-${topic}`;
}

/** Physical SQS queue name of a consumed queue: `<system>-<env>-<service>-<key>`. */
export function queueName(
  system: string,
  env: Pick<RuntimeEnvironment, 'name'>,
  service: string,
  key: string,
): string {
  return `${system}-${env.name}-${service}-${key}`;
}

/** Physical name of the dead-letter queue of a consumed queue. */
export function dlqName(
  system: string,
  env: Pick<RuntimeEnvironment, 'name'>,
  service: string,
  key: string,
): string {
  return `${queueName(system, env, service, key)}-dlq`;
}

/** SQS queue names are at most 80 characters. @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html */
export const MAX_QUEUE_NAME_LENGTH = 80;

/** SNS topic ARN. @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html */
export function topicArn(env: Pick<RuntimeEnvironment, 'aws'>, name: string): string {
  return `arn:aws:sns:${env.aws.region}:${env.aws.accountId}:${name}`;
}

/** SQS queue ARN. */
export function queueArn(env: Pick<RuntimeEnvironment, 'aws'>, name: string): string {
  return `arn:aws:sqs:${env.aws.region}:${env.aws.accountId}:${name}`;
}

/**
 * SQS queue URL in the AWS form `<scheme>://sqs.<region>.<host>/<account>/<name>`: `amazonaws.com` on AWS;
 * on an emulator, `localhost:<port>` of its endpoint, which is the form the fauxqs emulator gives its queues
 * (it identifies a queue by this exact URL). The SDK sends requests to the configured endpoint, so the URL
 * only names the queue and need not resolve.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
 */
export function queueUrl(env: Pick<RuntimeEnvironment, 'aws' | 'messagingEndpoint'>, name: string): string {
  if (!env.messagingEndpoint)
    return `https://sqs.${env.aws.region}.amazonaws.com/${env.aws.accountId}/${name}`;
  const endpoint = new URL(env.messagingEndpoint);
  const port = endpoint.port || (endpoint.protocol === 'https:' ? '443' : '80');
  return `${endpoint.protocol}//sqs.${env.aws.region}.${EMULATOR_QUEUE_HOST}:${port}/${env.aws.accountId}/${name}`;
}

/** The account id of every emulator environment (fauxqs's fixed account). */
export const EMULATOR_ACCOUNT_ID = '000000000000';

/**
 * Static credentials for an emulator, which accepts any: they keep the AWS SDK from searching the
 * machine for real ones.
 */
export const EMULATOR_CREDENTIALS = {
  accessKeyId: 'flotilla-local',
  secretAccessKey: 'flotilla-local',
} as const;

/** Host part of emulator queue URLs (fauxqs's `host` setting, `FAUXQS_HOST`). */
export const EMULATOR_QUEUE_HOST = 'localhost';

/** In-cluster DNS URL of a service. */
export function clusterServiceUrl(service: string, namespace: string, port: number): string {
  return `http://${service}.${namespace}.svc.cluster.local:${port}`;
}

/** Name of the Secret holding a service's database URL (key `url`). */
export function databaseSecretName(service: string): string {
  return `${service}-db`;
}

/** Key of the database URL inside {@link databaseSecretName}. */
export const DATABASE_SECRET_KEY = 'url';

/** Health endpoints every runtime service serves on its one port. */
export const HEALTH_PATHS = { live: '/livez', ready: '/readyz', startup: '/startupz' } as const;

/** Numeric non-root user and group of every service image (Dockerfiles and pod securityContext). */
export const SERVICE_UID = 10001;
export const SERVICE_GID = 10001;
