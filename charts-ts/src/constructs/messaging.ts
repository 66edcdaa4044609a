/**
 * SNS topics, SQS queues (each with its dead-letter queue) and the subscriptions between them, as ACK
 * resources on EKS. Every name, URL and ARN comes from `messagingResources` in the model, and those
 * names are deterministic (`<system>-<env>-...` in the environment's account and region), so `envFor`
 * computes each service's queue URLs and topic ARNs itself: no ACK FieldExport or ConfigMap is needed
 * between the queue's creation and the service's start.
 * @see https://aws-controllers-k8s.github.io/community/reference/
 */
import { messagingResources, type QueueResource, type System, type TopicResource } from '@flotilla/model';
import { Construct } from 'constructs';
import { Subscription, Topic } from '../../imports/sns.services.k8s.aws.js';
import { Queue } from '../../imports/sqs.services.k8s.aws.js';
import type { EksEnvironment } from '../environments/types.js';

/** Longest retention SQS allows, for dead-letter queues: 14 days to inspect and redrive. @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html */
export const DLQ_RETENTION_SECONDS = 1_209_600;

/** Long polling on every queue: fewer empty receives, lower cost. @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html */
export const RECEIVE_WAIT_SECONDS = 20;

/** The redrive policy of a queue: after `maxReceiveCount` deliveries a message moves to its DLQ. @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue.html */
export function redrivePolicy(queue: QueueResource): string {
  return JSON.stringify({ deadLetterTargetArn: queue.dlq.arn, maxReceiveCount: queue.maxReceiveCount });
}

/** A DLQ accepts dead letters only from its own queue. @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html */
export function redriveAllowPolicy(queue: QueueResource): string {
  return JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [queue.arn] });
}

/**
 * Queue policy of a topic-fed queue: the SNS service may send to it, only on behalf of its topic
 * (`aws:SourceArn`), so no other topic or account can inject messages.
 * @see https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
 */
export function topicQueuePolicy(queue: QueueResource): string | undefined {
  if (!queue.subscription) return undefined;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowTopicToSend',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queue.arn,
        Condition: { ArnEquals: { 'aws:SourceArn': queue.subscription.topicArn } },
      },
    ],
  });
}

/** Props of {@link AckMessaging}. */
export interface AckMessagingProps {
  /** The validated system. */
  readonly system: System;
  /** The EKS environment (account, region and resource names). */
  readonly environment: EksEnvironment;
  /**
   * Namespace of the ACK resources.
   * @default - the environment's namespace
   */
  readonly namespace?: string;
}

/** Every topic, queue, DLQ and subscription of a system as ACK SNS/SQS resources. */
export class AckMessaging extends Construct {
  constructor(scope: Construct, id: string, props: AckMessagingProps) {
    super(scope, id);
    const env = props.environment;
    const namespace = props.namespace ?? env.namespace;
    const resources = messagingResources(props.system, env.runtime);
    const tags = { 'flotilla.dev/system': props.system.name, 'flotilla.dev/environment': env.name };
    for (const topic of resources.topics) this.topic(topic, namespace, tags);
    for (const queue of resources.queues) this.queue(queue, namespace, tags);
  }

  private topic(topic: TopicResource, namespace: string, tags: Record<string, string>): void {
    new Topic(this, `topic-${topic.key}`, {
      metadata: { name: topic.name, namespace },
      spec: { name: topic.name, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) },
    });
  }

  private queue(queue: QueueResource, namespace: string, tags: Record<string, string>): void {
    const id = `${queue.service}-${queue.key}`;
    new Queue(this, `dlq-${id}`, {
      metadata: { name: queue.dlq.name, namespace },
      spec: {
        queueName: queue.dlq.name,
        messageRetentionPeriod: String(DLQ_RETENTION_SECONDS),
        redriveAllowPolicy: redriveAllowPolicy(queue),
        sqsManagedSseEnabled: 'true',
        tags: { ...tags, 'flotilla.dev/service': queue.service },
      },
    });
    const policy = topicQueuePolicy(queue);
    new Queue(this, `queue-${id}`, {
      metadata: { name: queue.name, namespace },
      spec: {
        queueName: queue.name,
        visibilityTimeout: String(queue.visibilityTimeoutSeconds),
        receiveMessageWaitTimeSeconds: String(RECEIVE_WAIT_SECONDS),
        redrivePolicy: redrivePolicy(queue),
        sqsManagedSseEnabled: 'true',
        ...(policy ? { policy } : {}),
        tags: { ...tags, 'flotilla.dev/service': queue.service },
      },
    });
    const sub = queue.subscription;
    if (!sub) return;
    new Subscription(this, `subscription-${id}`, {
      metadata: { name: queue.name, namespace },
      spec: {
        topicArn: sub.topicArn,
        protocol: 'sqs',
        endpoint: queue.arn,
        // The runtime reads the event envelope straight from the SQS body, attributes included.
        rawMessageDelivery: 'true',
        ...(sub.filterPolicy
          ? { filterPolicy: JSON.stringify(sub.filterPolicy), filterPolicyScope: 'MessageAttributes' }
          : {}),
      },
    });
  }
}
