/**
 * Turns the names a service uses in code (a topic key from the model, a `service/queue` target) into
 * the ARN or URL its environment holds, through the variables `envFor` writes.
 */
import { sendQueueUrlVar, topicArnVar, type QueueTarget } from '@flotilla/model';

export type EnvSource = Readonly<Record<string, string | undefined>>;

export interface DestinationMaps {
  /** Topic key -> SNS topic ARN. @default - read from `TOPIC_<KEY>_ARN` */
  readonly topics?: Readonly<Record<string, string>>;
  /** `service/queue` -> SQS queue URL. @default - read from `SEND_<SERVICE>_<QUEUE>_QUEUE_URL` */
  readonly queues?: Readonly<Record<string, string>>;
  /** Where variables are read. @default process.env */
  readonly env?: EnvSource;
}

/** Resolves topic keys and queue targets; ARNs and URLs pass through unchanged. */
export class DestinationResolver {
  constructor(private readonly maps: DestinationMaps = {}) {}

  topicArn(topic: string): string {
    if (topic.startsWith('arn:')) return topic;
    const known = this.maps.topics?.[topic];
    if (known) return known;
    const variable = topicArnVar(topic);
    const value = (this.maps.env ?? process.env)[variable];
    if (!value) {
      throw new Error(
        `Unknown topic "${topic}": ${variable} is not set. Declare the topic in this service's \`publishes\` ` +
          '(services/<name>/service.ts) so envFor provides it, or pass its ARN in `topics`.',
      );
    }
    return value;
  }

  queueUrl(target: QueueTarget | string): string {
    if (typeof target === 'string' && /^https?:\/\//.test(target)) return target;
    const key = typeof target === 'string' ? target : `${target.service}/${target.queue}`;
    const known = this.maps.queues?.[key];
    if (known) return known;
    const [service, queue] = key.split('/');
    if (!service || !queue) {
      throw new Error(
        `Invalid queue target "${key}": write it as "<service>/<queue>", e.g. "payments/charges", or pass a queue URL.`,
      );
    }
    const variable = sendQueueUrlVar(service, queue);
    const value = (this.maps.env ?? process.env)[variable];
    if (!value) {
      throw new Error(
        `Unknown queue "${key}": ${variable} is not set. Declare it in this service's \`sends\` ` +
          '(services/<name>/service.ts) so envFor provides it, or pass its URL in `queues`.',
      );
    }
    return value;
  }
}
