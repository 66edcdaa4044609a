/**
 * The relay's publish function over the messaging publisher's `deliver`: resolves each row's destination,
 * delivers, and says which rows failed, why, and which failures are the message's own fault (the relay
 * parks those after `maxSenderFaults`; it retries every other failure until delivery).
 */
import { errorMessage } from '../kit.js';
import type { DeliveryReport, OutboundMessage } from '../messaging/delivery.js';
import type { DeliveryFailure } from '../messaging/errors.js';
import type { OutboxDestinationKind, OutboxPublish } from './message.js';

/**
 * Whether a delivery failure is the message's own fault, so retrying the same message cannot help: AWS
 * said `SenderFault` about the entry, or refused the call as the client's fault. Never a deadline or an
 * abort (the network or the service), and never a fault of the destination or the credentials (access
 * denied, no such topic or queue, KMS, an expired token): every message to that destination fails alike
 * until the deployment is fixed, and then each must go, so those are retried with backoff (and logged as
 * errors) rather than parked. Throttling and server faults are not sender faults to begin with.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_BatchResultErrorEntry.html
 * @see https://docs.aws.amazon.com/sns/latest/api/API_BatchResultErrorEntry.html
 */
export function isMessageFault(failure: Pick<DeliveryFailure, 'code' | 'senderFault'>): boolean {
  if (!failure.senderFault) return false;
  return !/Abort|Timeout|Throttl|AccessDenied|Authoriz|NotFound|NonExistent|DoesNotExist|Token|Signature|Credential|Forbidden|Security|Disabled|OptIn|KMS/i.test(
    failure.code,
  );
}

/**
 * An {@link OutboxPublish} that resolves destinations with `resolve` (a model name to an ARN or URL; throws
 * when unknown) and delivers through `deliver` (the publisher's). A destination that no longer resolves
 * (the environment changed since the row was written) is a deployment fault: retried, not parked.
 */
export function outboxPublishVia(
  resolve: (kind: OutboxDestinationKind, destination: string) => string,
  deliver: (messages: readonly OutboundMessage[]) => Promise<DeliveryReport>,
): OutboxPublish {
  return async (messages) => {
    const outbound: OutboundMessage[] = [];
    const reasons: Record<string, string> = {};
    for (const m of messages) {
      try {
        outbound.push({
          kind: m.kind,
          destination: resolve(m.kind, m.destination),
          envelope: m.envelope,
          traceparent: m.traceparent,
          tracestate: m.tracestate,
          requestId: m.requestId,
        });
      } catch (error) {
        reasons[m.envelope.id] = errorMessage(error);
      }
    }
    const report = outbound.length > 0 ? await deliver(outbound) : { succeeded: [], failed: [] };
    for (const f of report.failed) reasons[f.id] = `${f.code}: ${f.message}`;
    return {
      failedIds: Object.keys(reasons),
      reasons,
      senderFaults: report.failed.filter(isMessageFault).map((f) => f.id),
    };
  };
}
