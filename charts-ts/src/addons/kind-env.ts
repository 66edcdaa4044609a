/**
 * Prints the kind add-ons' versions as shell assignments (`platform/kind/up.sh` evaluates them), so the
 * kind scripts install exactly the versions of the add-on table and write none themselves.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addon } from './index.js';

/** `NAME=value` lines: the upstream release each kind script downloads. */
export function kindAddonEnv(): string {
  const lines = {
    INGRESS_NGINX_VERSION: `controller-v${addon('ingress-nginx').appVersion}`,
    METRICS_SERVER_VERSION: `v${addon('metrics-server').appVersion}`,
    KEDA_VERSION: addon('keda').appVersion,
  };
  return Object.entries(lines)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  console.log(kindAddonEnv());
