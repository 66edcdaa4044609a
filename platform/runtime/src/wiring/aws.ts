/**
 * The SQS and SNS clients of a service, built once from the variables `envFor` writes (`AWS_REGION`,
 * `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_SNS`, and on emulators `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`)
 * and shared by the publisher, the outbox relay and every consumer. They are destroyed in the `aws-clients`
 * stop phase, after consumers and relay stopped using them.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '@flotilla/model';
import { onStopPhase } from './phases.js';
import { requireVar, type WiringOptions, type WiringTarget } from './target.js';

/** The AWS clients of one service. */
export interface AwsClients {
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

const clients = new WeakMap<WiringTarget, AwsClients>();

/**
 * The service's SQS and SNS clients (the same pair on every call).
 * The variables are passed to the SDK explicitly rather than left to its own lookup, so a service built
 * with `createService({ env })` (tests, several services in one process) uses its own, not `process.env`'s.
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 * @throws WiringConfigError when AWS_REGION is not set
 */
export function useAwsClients(svc: WiringTarget, options: WiringOptions = {}): AwsClients {
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
  const pair: AwsClients = {
    sqs: new SQSClient({ region, ...credentials, ...(sqsEndpoint ? { endpoint: sqsEndpoint } : {}) }),
    sns: new SNSClient({ region, ...credentials, ...(snsEndpoint ? { endpoint: snsEndpoint } : {}) }),
  };
  clients.set(svc, pair);
  onStopPhase(svc, 'aws-clients', () => {
    pair.sqs.destroy();
    pair.sns.destroy();
  });
  return pair;
}
