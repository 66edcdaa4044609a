/**
 * Builders of environment files that say each value once. An environment's `runtime` (the model's view,
 * which decides every service's variables) shares its name, platform, namespace, AWS account and region
 * and version (the image tag) with the environment itself; these builders fill those in, and the file
 * gives only what the model's view adds (discovery, telemetry, database, log level...).
 */
import { EMULATOR_ACCOUNT_ID, type RuntimeEnvironment } from '@flotilla/model';
import type { EksEnvironment, KindEnvironment } from './types.js';

/** The fields of `runtime` the builders derive from the environment. */
type Derived = 'name' | 'platform' | 'namespace' | 'aws' | 'version';

/** What an environment file says about its `runtime`: everything but what the environment already says. */
export type RuntimeSettings = Omit<RuntimeEnvironment, Derived> & {
  /**
   * The services' version (`SERVICE_VERSION`).
   * @default - the environment's image tag
   */
  readonly version?: string;
};

/** An environment as its file writes it: without `platform` (the builder's) and `runtime`. */
type Written<E> = Omit<E, 'platform' | 'runtime'>;

function runtimeOf(
  env: { name: string; namespace: string; image: { tag: string } },
  platform: RuntimeEnvironment['platform'],
  aws: RuntimeEnvironment['aws'],
  settings: RuntimeSettings,
): RuntimeEnvironment {
  const { version, ...rest } = settings;
  return {
    name: env.name,
    platform,
    namespace: env.namespace,
    aws,
    ...rest,
    version: version ?? env.image.tag,
  };
}

/** An Amazon EKS environment; `runtime.aws` is its own account and region. */
export function eksEnvironment(env: Written<EksEnvironment>, runtime: RuntimeSettings): EksEnvironment {
  const aws = { region: env.region, accountId: env.accountId };
  return { ...env, platform: 'eks', runtime: runtimeOf(env, 'eks', aws, runtime) };
}

/**
 * A kind environment. Its AWS is the messaging emulator's: `runtime.aws` is the emulator account in
 * `us-east-1`.
 */
export function kindEnvironment(env: Written<KindEnvironment>, runtime: RuntimeSettings): KindEnvironment {
  const aws = { region: 'us-east-1', accountId: EMULATOR_ACCOUNT_ID };
  return { ...env, platform: 'kind', runtime: runtimeOf(env, 'kind', aws, runtime) };
}
