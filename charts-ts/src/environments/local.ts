/** `local`: the whole system on a kind cluster (`make kind-up`), images loaded with `kind load`. */
import { messagingEmulatorEndpoint, otlpEndpoint } from './names.js';
import { kindEnvironment } from './define.js';
import type { KindEnvironment } from './types.js';

const namespace = 'shop';
const tag = 'kind';

export const local: KindEnvironment = kindEnvironment(
  {
    name: 'local',
    namespace,
    domain: 'localhost',
    image: { registry: '', tag },
    // One replica each keeps a laptop cluster small; the autoscalers still run.
    replicas: { min: 1, max: 2 },
    ingressClassName: 'nginx',
    ingressNamespace: 'ingress-nginx',
  },
  {
    messagingEndpoint: messagingEmulatorEndpoint(namespace),
    discovery: { method: 'dns' },
    telemetry: { otlpEndpoint: otlpEndpoint(namespace), samplingRatio: 1 },
    database: { kind: 'secret' },
    logLevel: 'debug',
  },
);
