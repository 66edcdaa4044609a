/** Classifies AWS SDK errors for our retry decisions. */

interface SdkErrorLike {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
  Code?: string;
}

export function errorCode(err: unknown): string {
  const e = err as SdkErrorLike | undefined;
  return e?.Code ?? e?.name ?? 'Error';
}

/**
 * Whether a whole SQS/SNS call may succeed if repeated: server faults, throttling, timeouts and network
 * errors (no AWS fault at all). A client fault (missing queue, access denied, invalid request) will not.
 */
export function isRetryableCall(err: unknown): boolean {
  const e = err as SdkErrorLike | undefined;
  if (e?.name === 'AbortError') return false;
  if (e?.$retryable) return true;
  if (/Throttl|TooManyRequests|RequestTimeout|KMSThrottling/i.test(e?.name ?? '')) return true;
  return e?.$fault !== 'client';
}
