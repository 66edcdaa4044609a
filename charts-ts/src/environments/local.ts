/** `local`: the whole system on a kind cluster (`make kind-up`), images loaded with `kind load`. */
import { EMULATOR_ACCOUNT_ID } from '@flotilla/model';
import { messagingEmulatorEndpoint, otlpEndpoint } from './names.js';
import type { KindEnvironment } from './types.js';

const namespace = 'shop';
const tag = 'kind';

export const local: KindEnvironment = {
  name: 'local',
  platform: 'kind',
  namespace,
  domain: 'localhost',
  image: { registry: '', tag },
  // One replica each keeps a laptop cluster small; the autoscalers still run.
  replicas: { min: 1, max: 2 },
  ingressClassName: 'nginx',
  ingressNamespace: 'ingress-nginx',
  runtime: {
    name: 'local',
    platform: 'kind',
    namespace,
    aws: { region: 'us-east-1', accountId: EMULATOR_ACCOUNT_ID },
    messagingEndpoint: messagingEmulatorEndpoint(namespace),
    discovery: { method: 'dns' },
    telemetry: { otlpEndpoint: otlpEndpoint(namespace), samplingRatio: 1 },
    database: { kind: 'secret' },
    logLevel: 'debug',
    version: tag,
  },
};
