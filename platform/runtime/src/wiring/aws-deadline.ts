/**
 * Deadlines for AWS SDK v3 calls that really end them. The SDK's own `requestTimeout` does not: with the
 * installed `@smithy/node-http-handler` (4.14) it only logs a warning unless `throwOnRequestTimeout` is set
 * (`setRequestTimeout` in its dist-cjs/index.js), and nothing bounds a call's retries as a whole. A client
 * built with {@link awsDeadlineConfig} gives up on a hung attempt and retries in the standard mode; a call
 * made through {@link withAwsDeadline} is aborted at its deadline, whatever its client's settings.
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 * @see https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-requesthandler.html
 */

/** How long the calls of an AWS client may take. */
export interface AwsDeadlineOptions {
  /** Time one call may take in all, attempts and backoff included, in milliseconds. */
  readonly deadlineMs: number;
  /**
   * Attempts per call (the first one and its retries), in the SDK's standard retry mode. Each attempt gets an
   * equal share of the deadline, so a hung first attempt leaves time for another.
   * @default 3
   * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
   */
  readonly maxAttempts?: number;
}

/** The settings of an AWS SDK v3 client that bound its calls; spread into the client's configuration. */
export interface AwsDeadlineClientConfig {
  readonly maxAttempts: number;
  readonly retryMode: 'standard';
  /** Options of the SDK's Node.js request handler (`NodeHttpHandler`). */
  readonly requestHandler: {
    /** Milliseconds to establish a connection. */
    readonly connectionTimeout: number;
    /** Milliseconds from sending an attempt to its response. */
    readonly requestTimeout: number;
    /** Makes `requestTimeout` end the attempt with a retryable `TimeoutError` instead of logging a warning. */
    readonly throwOnRequestTimeout: true;
  };
}

/**
 * Client settings whose attempts time out for real and are retried in the standard mode, e.g.
 * `new SQSClient({ region, ...awsDeadlineConfig({ deadlineMs: 5000 }) })`.
 */
export function awsDeadlineConfig(options: AwsDeadlineOptions): AwsDeadlineClientConfig {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`maxAttempts = ${maxAttempts} of an AWS client must be an integer >= 1`);
  checkDeadline(options.deadlineMs);
  const perAttempt = Math.max(1, Math.floor(options.deadlineMs / maxAttempts));
  return {
    maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: perAttempt,
      requestTimeout: perAttempt,
      throwOnRequestTimeout: true,
    },
  };
}

/** An AWS call that did not complete within its deadline; it was aborted. */
export class AwsDeadlineError extends Error {
  constructor(
    /** What was called, e.g. `Cloud Map DiscoverInstances for 'inventory'`. */
    readonly operation: string,
    readonly deadlineMs: number,
    cause: unknown,
  ) {
    super(
      `${operation} did not complete within ${deadlineMs} ms and was aborted: the endpoint did not answer in ` +
        'time (or its retries used the time up). Check that the AWS endpoint is reachable from here.',
      { cause },
    );
    this.name = 'AwsDeadlineError';
  }
}

/**
 * Runs one AWS SDK call with a deadline: `call` gets the AbortSignal to pass on, as in
 * `withAwsDeadline('SQS ReceiveMessage', 5000, (abortSignal) => sqs.send(command, { abortSignal }))`. At the
 * deadline the signal aborts the call (the request in flight, or the backoff before a retry) and the call
 * rejects with {@link AwsDeadlineError}. An `outer` signal (a shutdown, say) aborts it too, with its own
 * reason.
 */
export async function withAwsDeadline<T>(
  operation: string,
  deadlineMs: number,
  call: (abortSignal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  checkDeadline(deadlineMs);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deadlineMs);
  const signal = outer === undefined ? deadline.signal : AbortSignal.any([deadline.signal, outer]);
  try {
    return await call(signal);
  } catch (err) {
    if (deadline.signal.aborted) throw new AwsDeadlineError(operation, deadlineMs, err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function checkDeadline(deadlineMs: number): void {
  if (!Number.isFinite(deadlineMs) || deadlineMs < 1)
    throw new RangeError(`deadlineMs = ${deadlineMs} of an AWS call must be a number of milliseconds >= 1`);
}

/**
 * Makes every call of `client` that runs out of attempts on their deadlines fail with an
 * {@link AwsDeadlineError} naming the service and the operation (`SNS Publish did not complete within
 * 15000 ms ...`), instead of the request handler's bare "a request has exceeded the configured 5000 ms
 * requestTimeout". `deadlineMs` is the one the client's {@link awsDeadlineConfig} was built from. Returns
 * the client.
 */
export function nameTimeouts<C extends { readonly middlewareStack: object }>(
  client: C,
  service: string,
  deadlineMs: number,
): C {
  // Structural: every SDK v3 client's stack has this `add`; its own types differ per client.
  (client.middlewareStack as InitializeStack).add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if ((err as { name?: unknown } | undefined)?.name !== 'TimeoutError') throw err;
        const operation = (context.commandName ?? 'call').replace(/Command$/, '');
        throw new AwsDeadlineError(`${service} ${operation}`, deadlineMs, err);
      }
    },
    // The initialize step runs outside the retry middleware: this sees the error of the last attempt.
    { step: 'initialize', name: 'flotillaNameTimeouts', override: true },
  );
  return client;
}

/** The `initialize` step of an SDK v3 middleware stack, as far as {@link nameTimeouts} uses it. */
interface InitializeStack {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { readonly commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize'; name: string; override: boolean },
  ): void;
}
