/** Every environment `make synth` writes, in a stable order. */
import { dev } from './dev.js';
import { local } from './local.js';
import { prod } from './prod.js';
import type { FlotillaEnvironment } from './types.js';

export { dev, local, prod };
export * from './types.js';
export * from './names.js';
export * from './kubernetes.js';
export { eksEnvironment, kindEnvironment, type RuntimeSettings } from './define.js';
export { EnvironmentError, validateEnvironment } from './validate.js';

/** All environments, synthesized to `dist/<name>/`. */
export const environments: readonly FlotillaEnvironment[] = [local, dev, prod];
