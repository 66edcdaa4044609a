/** Reads the error `validateEnvironment` throws, for tests of what it reports. */
import type { FlotillaEnvironment } from '../../src/environments/types.js';
import { EnvironmentError, validateEnvironment } from '../../src/environments/validate.js';

/**
 * The {@link EnvironmentError} `validateEnvironment` throws for an environment, or `undefined` when the
 * environment is valid. Any other error is thrown on, so the test fails on it.
 */
export function environmentError(env: FlotillaEnvironment): EnvironmentError | undefined {
  try {
    validateEnvironment(env);
    return undefined;
  } catch (error) {
    if (error instanceof EnvironmentError) return error;
    throw error;
  }
}
