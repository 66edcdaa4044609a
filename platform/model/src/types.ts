/**
 * The types of the Flotilla system model. A system is a set of services and topics; everything else
 * (manifests, runtime wiring, the local stack, the diagram) is derived from it.
 */

/** A subscription of a service to a topic: an SQS queue fed by the SNS topic, with its own DLQ. */
export interface TopicSubscription {
  /** Name of the topic (see {@link TopicDefinition.name}). */
  readonly topic: string;
  /**
   * Event types this subscriber wants. Becomes an SNS filter policy on the `type` message attribute.
   * @default - every event type of the topic
   * @see https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html
   */
  readonly events?: readonly string[];
  /**
   * Minutes a message whose handler keeps failing is retried, with jittered exponential backoff, before it
   * moves to the dead-letter queue. The queue's redrive policy (`maxReceiveCount`) and the consumer's
   * backoff are both derived from it (`retryPolicy` in @flotilla/model), so an outage of a dependency
   * shorter than this dead-letters nothing. A message that fails for a reason of its own (invalid, or its
   * handler failing while the dependencies are healthy) still goes to the dead-letter queue within seconds.
   * An integer from 1 to 720.
   * @default 15
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
   */
  readonly retryWindowMinutes?: number;
  /**
   * Seconds a received message stays invisible to other consumers. The runtime extends it with a
   * heartbeat while a handler runs.
   * @default 30
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Seconds a handler may run on one message. Then its `signal` aborts, the heartbeat stops, and the message
   * is released to be retried after a backoff, so a hung handler does not hold its slot for ever. At most
   * 43200 minus the visibility timeout: SQS keeps a message invisible for at most 12 hours after it was
   * received, and the heartbeat extends it until the deadline.
   * @default - visibilityTimeoutSeconds
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
   */
  readonly handlerTimeoutSeconds?: number;
}

/** A command queue owned by the consuming service: other services send commands to it directly. */
export interface QueueSubscription {
  /** Short name of the queue, unique within the owning service (DNS-1035 label). */
  readonly queue: string;
  /** Command types accepted on this queue. @default - any */
  readonly commands?: readonly string[];
  /** @see TopicSubscription.retryWindowMinutes @default 15 */
  readonly retryWindowMinutes?: number;
  /** @see TopicSubscription.visibilityTimeoutSeconds @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** @see TopicSubscription.handlerTimeoutSeconds @default - visibilityTimeoutSeconds */
  readonly handlerTimeoutSeconds?: number;
}

export type Subscription = TopicSubscription | QueueSubscription;

/** A reference to another service's command queue, for `send(queue, command)`. */
export interface QueueTarget {
  /** The service that owns (consumes) the queue. */
  readonly service: string;
  /** The queue's short name in that service's `consumes`. */
  readonly queue: string;
}

/** CPU and memory requests and limits, in Kubernetes quantity syntax. */
export interface Resources {
  /**
   * @default { request: '100m' } (no CPU limit: CPU limits throttle latency-sensitive Node processes)
   * @see https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
   */
  readonly cpu?: { readonly request: string; readonly limit?: string };
  /** @default { request: '192Mi', limit: '256Mi' } */
  readonly memory?: { readonly request: string; readonly limit: string };
}

/** Horizontal scaling on CPU utilisation through a HorizontalPodAutoscaler. */
export interface CpuScaling {
  readonly kind: 'cpu';
  /**
   * Target average CPU utilisation in percent of the request.
   * @default 70
   * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
   */
  readonly targetUtilization?: number;
}

/** Scaling on queue depth through a KEDA ScaledObject (aws-sqs-queue scaler). For consumers only. */
export interface QueueScaling {
  readonly kind: 'queue';
  /**
   * Visible messages per replica the scaler aims for.
   * @default 20
   * @see https://keda.sh/docs/latest/scalers/aws-sqs/
   */
  readonly messagesPerReplica?: number;
}

export type Scaling = CpuScaling | QueueScaling;

/** What a team writes for one service, in `services/<name>/service.ts`. */
export interface ServiceDefinition {
  /** DNS-1035 label; also the Kubernetes Service name, so peers reach it at `http://<name>.<namespace>.svc`. */
  readonly name: string;
  /** A sentence on what the service owns; shown in the diagram and the README. @default - none */
  readonly description?: string;
  /** The one HTTP port the service and its health endpoints listen on (1024-65535: the pod runs as non-root). */
  readonly port: number;
  /**
   * Path prefixes routed to this service from the single front door (ALB / local gateway).
   * @default [] (internal only)
   */
  readonly routes?: readonly string[];
  /** Services this one calls over HTTP. Derives NetworkPolicies and the peer URLs in its env. @default [] */
  readonly calls?: readonly string[];
  /** Topics this service publishes to (SNS). Derives its sns:Publish grants. @default [] */
  readonly publishes?: readonly string[];
  /** Command queues of other services this one sends to (SQS). @default [] */
  readonly sends?: readonly QueueTarget[];
  /** Topic subscriptions and command queues this service consumes. @default [] */
  readonly consumes?: readonly Subscription[];
  /** Whether the service owns a PostgreSQL database. @default false */
  readonly database?: boolean;
  /** @default see {@link Resources} */
  readonly resources?: Resources;
  /** @default { kind: 'cpu' } */
  readonly scaling?: Scaling;
  /**
   * Replica bounds for the autoscaler; an environment may override them.
   * @default { min: 2, max: 10 }
   */
  readonly replicas?: { readonly min: number; readonly max: number };
  /**
   * Container image repository (without tag). Environments add registry and tag.
   * @default the service name
   */
  readonly image?: string;
}

/** An SNS topic and the event types that travel on it. */
export interface TopicDefinition {
  /** DNS-1035 label. */
  readonly name: string;
  /** Event types published on this topic, e.g. `order.placed`. Subscription filters must name these. */
  readonly events: readonly string[];
  readonly description?: string;
}

export interface SystemDefinition {
  /** DNS-1035 label: prefixes cloud resource names (queues, topics, roles). */
  readonly name: string;
  readonly services: readonly ServiceDefinition[];
  readonly topics: readonly TopicDefinition[];
}

/** A service with every default applied. */
export interface Service extends Required<
  Omit<ServiceDefinition, 'description' | 'consumes' | 'resources' | 'scaling'>
> {
  readonly description: string;
  readonly consumes: readonly ResolvedSubscription[];
  readonly resources: Required<Resources>;
  readonly scaling: Required<CpuScaling> | Required<QueueScaling>;
}

/** A consumed queue with defaults applied and its identity resolved. */
export interface ResolvedSubscription {
  /** `topic` for topic subscriptions, `queue` for command queues. */
  readonly kind: 'topic' | 'queue';
  /** Short queue name inside the service: the topic name, or the command queue's name. */
  readonly key: string;
  readonly topic?: string;
  readonly events?: readonly string[];
  readonly retryWindowMinutes: number;
  /** The redrive count derived from `retryWindowMinutes` (see `retryPolicy`). */
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly handlerTimeoutSeconds: number;
}

export type Topic = Required<TopicDefinition>;

/** A validated system: every default applied, every reference checked. */
export interface System {
  readonly name: string;
  readonly services: readonly Service[];
  readonly topics: readonly Topic[];
  service(name: string): Service;
  topic(name: string): Topic;
}
