/**
 * Creates every topic, queue, dead-letter queue and subscription of a system on an SQS/SNS emulator,
 * from `messagingResources(system, env)`: the same list the charts turn into ACK resources.
 */
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  EMULATOR_CREDENTIALS,
  messagingResources,
  type QueueResource,
  type RuntimeEnvironment,
  type System,
} from '@flotilla/model';

/** What {@link provisionMessaging} did, for the start-up summary. */
export interface ProvisionReport {
  readonly topics: number;
  readonly queues: number;
  readonly subscriptions: number;
}

/**
 * Creates or updates every resource of `system` in `env` on the environment's emulator
 * (`env.messagingEndpoint`, in `env.aws.region`) so that it matches the model. Safe to run again on the
 * same endpoint: existing queues get the model's attributes, existing subscriptions its filter policy.
 * Resources the model no longer names are left alone (the local emulator starts empty anyway).
 */
export async function provisionMessaging(system: System, env: RuntimeEnvironment): Promise<ProvisionReport> {
  const endpoint = env.messagingEndpoint;
  if (!endpoint) {
    throw new Error(
      `Environment "${env.name}" has no messagingEndpoint: provisionMessaging creates messaging on an emulator ` +
        '(on AWS the charts create it).',
    );
  }
  const resources = messagingResources(system, env);
  const common = { endpoint, region: env.aws.region, credentials: EMULATOR_CREDENTIALS };
  const sqs = new SQSClient(common);
  const sns = new SNSClient(common);
  try {
    for (const topic of resources.topics) {
      const created = await sns.send(new CreateTopicCommand({ Name: topic.name }));
      if (created.TopicArn !== topic.arn) {
        throw new Error(
          `Topic ${topic.key}: the endpoint ${endpoint} created ${created.TopicArn}, but the model expects ${topic.arn}. ` +
            "Set the environment's aws.region and aws.accountId to what the emulator uses (account 000000000000).",
        );
      }
    }
    let subscriptions = 0;
    for (const queue of resources.queues) {
      await ensureQueue(sqs, queue.dlq.name, {});
      await ensureQueue(sqs, queue.name, {
        VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: queue.dlq.arn,
          maxReceiveCount: queue.maxReceiveCount,
        }),
      });
      if (queue.subscription) {
        await ensureSubscription(sns, queue);
        subscriptions++;
      }
    }
    return { topics: resources.topics.length, queues: resources.queues.length, subscriptions };
  } finally {
    sqs.destroy();
    sns.destroy();
  }
}

type QueueAttributes = Partial<Record<QueueAttributeName, string>>;

async function ensureQueue(sqs: SQSClient, name: string, attributes: QueueAttributes): Promise<void> {
  try {
    await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  } catch (err) {
    // SQS refuses CreateQueue when the queue exists with other attributes; update it to the model instead.
    if (!/QueueNameExists|QueueAlreadyExists/.test(String((err as Error).name))) throw err;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  }
}

async function ensureSubscription(sns: SNSClient, queue: QueueResource): Promise<void> {
  const sub = queue.subscription!;
  const attributes: Record<string, string> = { RawMessageDelivery: 'true' };
  if (sub.filterPolicy) {
    attributes.FilterPolicy = JSON.stringify(sub.filterPolicy);
    attributes.FilterPolicyScope = 'MessageAttributes';
  }
  try {
    await sns.send(
      new SubscribeCommand({
        TopicArn: sub.topicArn,
        Protocol: 'sqs',
        Endpoint: queue.arn,
        Attributes: attributes,
      }),
    );
  } catch (err) {
    // SNS refuses Subscribe when the subscription exists with other attributes: update it in place.
    if ((err as Error).name !== 'InvalidParameterException') throw err;
    const existing = await findSubscription(sns, sub.topicArn, queue.arn);
    if (!existing) throw err;
    for (const [AttributeName, AttributeValue] of Object.entries(attributes)) {
      await sns.send(
        new SetSubscriptionAttributesCommand({ SubscriptionArn: existing, AttributeName, AttributeValue }),
      );
    }
  }
}

async function findSubscription(
  sns: SNSClient,
  topicArn: string,
  queueArn: string,
): Promise<string | undefined> {
  let NextToken: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
    const match = page.Subscriptions?.find((s) => s.Protocol === 'sqs' && s.Endpoint === queueArn);
    if (match?.SubscriptionArn) return match.SubscriptionArn;
    NextToken = page.NextToken;
  } while (NextToken);
  return undefined;
}
