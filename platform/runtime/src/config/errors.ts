/** One invalid or missing environment variable. */
export interface ConfigIssue {
  /** The variable's name, e.g. `PORT`. */
  readonly variable: string;
  /** What was wrong and what was expected, e.g. `missing: expected an integer port 0-65535`. */
  readonly message: string;
}

/**
 * Thrown by {@link loadConfig} when the environment does not satisfy the schema. `message` lists every
 * problem at once (one line each), so an operator fixes the deployment in one round trip.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `Invalid service configuration: ${issues.length} environment variable(s) must be fixed ` +
        `(set them in the service's environment; for Flotilla services envFor() in @flotilla/model writes them):\n` +
        issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n'),
    );
  }
}
