import type { RuntimeEnvironment } from './environment.js';
import {
  dlqName,
  MAX_QUEUE_NAME_LENGTH,
  queueArn,
  queueName,
  queueUrl,
  topicArn,
  topicName,
} from './names.js';
import type { Service, System } from './types.js';

/**
 * Whether a service talks to SQS/SNS at all (publishes, sends or consumes): it then gets the AWS variables,
 * and in kind the emulator exists for it and its NetworkPolicy lets it reach the emulator.
 */
export function usesMessaging(service: Service): boolean {
  return service.publishes.length > 0 || service.sends.length > 0 || service.consumes.length > 0;
}

/** An SNS topic as it exists in an environment. */
export interface TopicResource {
  /** Topic name in the model. */
  readonly key: string;
  /** Physical SNS name. */
  readonly name: string;
  readonly arn: string;
}

/** An SQS queue (with its DLQ, and its SNS subscription when it is fed by a topic). */
export interface QueueResource {
  /** The consuming service. */
  readonly service: string;
  /** Short name inside the service: the topic name, or the command queue name. */
  readonly key: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly dlq: { readonly name: string; readonly url: string; readonly arn: string };
  /**
   * The SNS subscription feeding this queue, with raw message delivery and an optional filter policy
   * on the `type` message attribute.
   * @see https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html
   */
  readonly subscription?: {
    readonly topicKey: string;
    readonly topicArn: string;
    readonly filterPolicy?: { readonly type: readonly string[] };
  };
}

export interface MessagingResources {
  readonly topics: readonly TopicResource[];
  readonly queues: readonly QueueResource[];
}

/** SNS message attribute carrying the event type, used by subscription filter policies. */
export const EVENT_TYPE_ATTRIBUTE = 'type';

/**
 * Every topic, queue, DLQ and subscription of a system in an environment: the one list from which the
 * charts (ACK resources, the kind emulator) and `make dev` (the in-process emulator) create them.
 */
export function messagingResources(system: System, env: RuntimeEnvironment): MessagingResources {
  // Memoized per (system, environment) object: the charts ask once per service, which made synthesis
  // quadratic in the number of services. Both objects are read-only by type.
  let byEnv = cache.get(system);
  if (!byEnv) cache.set(system, (byEnv = new WeakMap()));
  let resources = byEnv.get(env);
  if (!resources) byEnv.set(env, (resources = computeResources(system, env)));
  return resources;
}

const cache = new WeakMap<System, WeakMap<RuntimeEnvironment, MessagingResources>>();

function computeResources(system: System, env: RuntimeEnvironment): MessagingResources {
  const topics = system.topics.map((t) => {
    const name = topicName(system.name, env, t.name);
    return { key: t.name, name, arn: topicArn(env, name) };
  });
  const queues = system.services.flatMap((service) =>
    service.consumes.map((sub): QueueResource => {
      const name = queueName(system.name, env, service.name, sub.key);
      const dlq = dlqName(system.name, env, service.name, sub.key);
      if (dlq.length > MAX_QUEUE_NAME_LENGTH) {
        throw new Error(
          `service "${service.name}" consumes "${sub.key}": in environment "${env.name}" its dead-letter queue ` +
            `"${dlq}" is ${dlq.length} characters, over the SQS limit of ${MAX_QUEUE_NAME_LENGTH}. ` +
            'Fix: shorten the system, environment, service or queue name.',
        );
      }
      const base = {
        service: service.name,
        key: sub.key,
        name,
        url: queueUrl(env, name),
        arn: queueArn(env, name),
        maxReceiveCount: sub.maxReceiveCount,
        visibilityTimeoutSeconds: sub.visibilityTimeoutSeconds,
        dlq: { name: dlq, url: queueUrl(env, dlq), arn: queueArn(env, dlq) },
      };
      if (sub.kind !== 'topic' || !sub.topic) return base;
      const tName = topicName(system.name, env, sub.topic);
      return {
        ...base,
        subscription: {
          topicKey: sub.topic,
          topicArn: topicArn(env, tName),
          ...(sub.events ? { filterPolicy: { [EVENT_TYPE_ATTRIBUTE]: sub.events } } : {}),
        },
      };
    }),
  );
  return { topics, queues };
}
