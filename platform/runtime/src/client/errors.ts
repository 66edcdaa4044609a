/**
 * Typed errors of service-to-service calls. Every error of a call names the peer, the method and the path,
 * so a log line alone tells which dependency failed and how; callers branch on the class (`instanceof`).
 */
import { errorMessage } from '../kit.js';

/** The call an error belongs to. */
export interface PeerCallTarget {
  /** Peer service name, as declared in `calls` of the caller's `service.ts`. */
  readonly peer: string;
  /** HTTP method, upper case. */
  readonly method: string;
  /** Request path (without the query string). */
  readonly path: string;
}

/**
 * An RFC 9457 problem details object, as Flotilla services answer errors.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
export interface ProblemDetails {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/** Base class of every error a peer call raises (`err instanceof PeerCallError`). */
export abstract class PeerCallError extends Error implements PeerCallTarget {
  readonly peer: string;
  readonly method: string;
  readonly path: string;

  protected constructor(target: PeerCallTarget, message: string, options?: ErrorOptions) {
    super(`${target.method} ${target.peer} ${target.path}: ${message}`, options);
    this.name = new.target.name;
    this.peer = target.peer;
    this.method = target.method;
    this.path = target.path;
  }
}

/** An attempt did not complete within its timeout; the request was aborted. */
export class PeerTimeoutError extends PeerCallError {
  constructor(
    target: PeerCallTarget,
    /** The per-attempt timeout that fired, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    super(
      target,
      `no response within ${timeoutMs} ms, request aborted. If '${target.peer}' is slow but healthy, raise ` +
        `timeoutMs for this call or in peers['${target.peer}'] of createServiceClients.`,
    );
  }
}

/**
 * The circuit breaker of the peer is open: too many recent attempts timed out, could not connect or got
 * 502/503/504, so this call failed fast without reaching the peer. The breaker lets a test call through after
 * `breaker.halfOpenAfterMs`.
 * @see https://learn.microsoft.com/en-us/azure/architecture/patterns/circuit-breaker
 */
export class CircuitOpenError extends PeerCallError {
  /** @param lastFailure the failure that opened the circuit, kept as `cause` */
  constructor(target: PeerCallTarget, lastFailure?: unknown) {
    super(
      target,
      `circuit to '${target.peer}' is open after repeated failures; failing fast until it half-opens to test ` +
        'recovery. Check the health of the peer.',
      lastFailure === undefined ? undefined : { cause: lastFailure },
    );
  }
}

/** The peer's bulkhead (concurrency limit plus queue) is full; the call was rejected without being sent. */
export class BulkheadRejectedError extends PeerCallError {
  constructor(
    target: PeerCallTarget,
    /** Concurrent calls allowed to this peer. */
    readonly limit: number,
    /** Calls allowed to wait for a slot. */
    readonly queue: number,
  ) {
    super(
      target,
      `too many concurrent calls to '${target.peer}' (limit ${limit}, queue ${queue}); the peer is slow or ` +
        `the caller is overloaded. Raise bulkhead.limit in peers['${target.peer}'] only if the peer can take it.`,
    );
  }
}

/** Shared shape of errors that carry an HTTP response from the peer. */
export abstract class PeerResponseError extends PeerCallError {
  protected constructor(
    target: PeerCallTarget,
    /** HTTP status code of the response. */
    readonly status: number,
    /** Response body: parsed JSON when the peer sent JSON, otherwise text (`undefined` when empty). */
    readonly body: unknown,
    /** Response headers. */
    readonly headers: Headers,
    message: string,
  ) {
    super(target, message);
  }

  /** The body as RFC 9457 problem details, when the peer sent `application/problem+json` or JSON with a title. */
  get problem(): ProblemDetails | undefined {
    const b = this.body;
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return undefined;
    const ct = this.headers.get('content-type') ?? '';
    if (ct.includes('problem+json') || 'title' in b || 'type' in b) return b as ProblemDetails;
    return undefined;
  }

  /**
   * Delay the peer asked for in `Retry-After`, in milliseconds.
   * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
   */
  get retryAfterMs(): number | undefined {
    return parseRetryAfter(this.headers.get('retry-after'));
  }
}

function describe(status: number, body: unknown): string {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const p = body as ProblemDetails;
    const text = [p.title, p.detail].filter((s) => typeof s === 'string' && s.length > 0).join(': ');
    if (text) return `${status} ${text}`;
  }
  if (typeof body === 'string' && body.length > 0) return `${status} ${body.slice(0, 200)}`;
  return String(status);
}

/**
 * The peer answered 4xx: the request is wrong (or, for 429, too frequent). Not retried (except 429) and not a
 * circuit breaker failure, since the peer is healthy (it answered).
 */
export class PeerClientError extends PeerResponseError {
  constructor(target: PeerCallTarget, status: number, body: unknown, headers: Headers) {
    super(target, status, body, headers, `peer answered ${describe(status, body)}`);
  }
}

/**
 * The peer answered 5xx. 502/503/504 are retried for idempotent calls and count as circuit breaker failures;
 * other 5xx (a 500 is usually what one request makes the peer do) are neither (see `BreakerOptions`).
 */
export class PeerServerError extends PeerResponseError {
  constructor(target: PeerCallTarget, status: number, body: unknown, headers: Headers) {
    super(target, status, body, headers, `peer failed with ${describe(status, body)}`);
  }
}

/** The peer could not be reached or dropped the connection (refused, reset, DNS failure). */
export class PeerUnavailableError extends PeerCallError {
  constructor(
    target: PeerCallTarget,
    /** The URL that was tried. */
    readonly url: string,
    cause: unknown,
  ) {
    super(target, `cannot reach '${target.peer}' at ${url} (${causeCode(cause)}); is the peer running?`, {
      cause,
    });
  }
}

/** The peer answered 2xx with a body that is not what the caller expects (bad JSON, or `schema` rejected it). */
export class PeerInvalidResponseError extends PeerCallError {
  constructor(
    target: PeerCallTarget,
    readonly status: number,
    reason: string,
    cause?: unknown,
  ) {
    super(target, `peer answered ${status} with an invalid body: ${reason}`, { cause });
  }
}

/** Thrown by `client(name)` for a peer the service did not declare (no `PEER_<NAME>_URL` in its environment). */
export class PeerNotDeclaredError extends Error {
  constructor(
    readonly peer: string,
    readonly variable: string,
    service: string | undefined,
  ) {
    const who = service ? `service '${service}'` : 'this service';
    super(
      `Peer '${peer}' is not declared: ${variable} is not set in the environment of ${who}. ` +
        `Add '${peer}' to calls in service.ts (defineService({ calls: ['${peer}'] })), so the model gives ` +
        `${who} the peer's address and the network policy allows the call.`,
    );
    this.name = 'PeerNotDeclaredError';
  }
}

/** Cloud Map answered, but lists no instances of the peer. */
export class PeerNoInstancesError extends Error {
  constructor(
    readonly peer: string,
    readonly namespace: string,
  ) {
    super(
      `Peer '${peer}' has no instances in Cloud Map namespace '${namespace}' (DiscoverInstances returned none). ` +
        `Check that '${peer}' is running and registered in service '${peer}' of that namespace.`,
    );
    this.name = 'PeerNoInstancesError';
  }
}

/** The discovery settings in the environment are invalid (e.g. an unknown `DISCOVERY_METHOD`). */
export class DiscoveryConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryConfigError';
  }
}

/**
 * Parses `Retry-After` (delta seconds or an HTTP date) into milliseconds from now.
 * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function causeCode(cause: unknown): string {
  let c: unknown = cause;
  // fetch wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
  for (let depth = 0; depth < 4 && c && typeof c === 'object'; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    c = (c as { cause?: unknown }).cause;
  }
  return errorMessage(cause);
}
