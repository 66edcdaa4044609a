/**
 * The SQS and SNS clients of a service, built once from the variables `envFor` writes (`AWS_REGION`,
 * `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_SNS`, and on emulators `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`)
 * and shared by the publisher, the outbox relay and every consumer. Every call has a deadline that aborts
 * it, with the SDK's standard retries (aws-deadline.ts), and fails naming the call when the deadline passes;
 * the consumer gives its long polls a longer one. They are destroyed in the `aws-clients` stop phase, after
 * consumers and relay stopped using them.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '@flotilla/model';
import { awsDeadlineConfig, nameTimeouts, type AwsDeadlineOptions } from './aws-deadline.js';
import { onStopPhase } from './phases.js';
import { requireVar, type WiringOptions, type WiringTarget } from './target.js';

/** The AWS clients of one service. */
export interface AwsClients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

/** Options of {@link useAwsClients}. */
export interface UseAwsClientsOptions extends WiringOptions {
  /**
   * Deadline and attempts of every SQS and SNS call. Only the first `useAwsClients` of a service builds the
   * clients: call it before `usePublisher`, `useOutbox` and `useConsumer` to change them.
   * @default { deadlineMs: 15000, maxAttempts: 3 } (5 s to connect and 5 s for an answer, per attempt)
   */
  readonly deadlines?: AwsDeadlineOptions;
}

/** SQS and SNS answer in milliseconds: 5 s an attempt leaves room for a slow moment, not for a hang. */
export const DEFAULT_AWS_DEADLINE: AwsDeadlineOptions = { deadlineMs: 15_000, maxAttempts: 3 };

const clients = new WeakMap<WiringTarget, AwsClients>();

/**
 * The service's SQS and SNS clients (the same pair on every call).
 * The variables are passed to the SDK explicitly rather than left to its own lookup, so a service built
 * with `createService({ env })` (tests, several services in one process) uses its own, not `process.env`'s.
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 * @throws WiringConfigError when AWS_REGION is not set
 */
export function useAwsClients(svc: WiringTarget, options: UseAwsClientsOptions = {}): AwsClients {
  const existing = clients.get(svc);
  if (existing) return existing;
  const env = options.env ?? svc.env;
  const name = svc.config.service.name;
  const region = requireVar(
    env,
    ENV.awsRegion,
    name,
    'envFor writes it when the service publishes, sends or consumes messages',
  );
  const accessKeyId = env[ENV.awsAccessKeyId];
  const secretAccessKey = env[ENV.awsSecretAccessKey];
  // Without explicit keys the SDK's default chain finds the pod's identity (EKS Pod Identity or IRSA).
  const credentials = accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {};
  const sqsEndpoint = env[ENV.sqsEndpoint];
  const snsEndpoint = env[ENV.snsEndpoint];
  const deadline = options.deadlines ?? DEFAULT_AWS_DEADLINE;
  const bounded = awsDeadlineConfig(deadline);
  const pair: AwsClients = {
    sqs: nameTimeouts(
      new SQSClient({
        region,
        ...credentials,
        ...bounded,
        ...(sqsEndpoint ? { endpoint: sqsEndpoint } : {}),
      }),
      'SQS',
      deadline.deadlineMs,
    ),
    sns: nameTimeouts(
      new SNSClient({
        region,
        ...credentials,
        ...bounded,
        ...(snsEndpoint ? { endpoint: snsEndpoint } : {}),
      }),
      'SNS',
      deadline.deadlineMs,
    ),
  };
  clients.set(svc, pair);
  onStopPhase(svc, 'aws-clients', () => {
    pair.sqs.destroy();
    pair.sns.destroy();
  });
  return pair;
}
