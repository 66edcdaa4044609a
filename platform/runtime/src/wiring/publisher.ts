/**
 * `usePublisher`: the messaging publisher of a service, with topics and queues resolved from the
 * `TOPIC_<TOPIC>_ARN` and `SEND_<SERVICE>_<QUEUE>_QUEUE_URL` variables `envFor` writes.
 */
import { requestContext } from '../client/request-context.js';
import type { EventSchemas } from '../messaging/envelope.js';
import { createPublisher, type Publisher, type PublisherOptions } from '../messaging/publisher.js';
import { useAwsClients } from './aws.js';
import type { WiringOptions, WiringTarget } from './target.js';

/** Options of {@link usePublisher}. */
export interface UsePublisherOptions
  extends WiringOptions, Pick<PublisherOptions<EventSchemas>, 'retry' | 'maxBatchDelayMs'> {}

/**
 * The service's publisher for the event types in `schemas` (from `@shop/contracts` or the like). Envelopes
 * carry the service's name as `source` and the id of the request being served as `x-request-id`.
 * Topic names given to `publish` are the model's (`'orders'`); an undeclared one fails with the variable to
 * declare.
 */
export function usePublisher<S extends EventSchemas>(
  svc: WiringTarget,
  schemas: S,
  options: UsePublisherOptions = {},
): Publisher<S> {
  const env = options.env ?? svc.env;
  const { sqs, sns } = useAwsClients(svc, { env });
  return createPublisher({
    source: svc.config.service.name,
    schemas,
    sqs,
    sns,
    env,
    log: svc.log,
    requestId: requestContext.requestId,
    retry: options.retry,
    maxBatchDelayMs: options.maxBatchDelayMs,
  });
}
