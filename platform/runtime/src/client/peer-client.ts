/**
 * A client for one peer service: JSON over HTTP with discovery, resilience policies, trace context and
 * request id on every attempt.
 */
import { SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import { errorMessage } from '../kit.js';
import type { PeerResolver } from './discovery.js';
import {
  PeerClientError,
  PeerInvalidResponseError,
  PeerServerError,
  PeerTimeoutError,
  PeerUnavailableError,
  type PeerCallTarget,
} from './errors.js';
import type { ResolvedPeerOptions } from './options.js';
import { PeerPolicies, type AttemptContext, type CircuitStateName } from './policies.js';
import { REQUEST_ID_HEADER } from './request-context.js';

/** HTTP methods the client sends. */
export type HttpMethod = 'GET' | 'HEAD' | 'OPTIONS' | 'PUT' | 'DELETE' | 'POST' | 'PATCH';

/**
 * Methods that are idempotent by definition, so a lost or failed attempt may be repeated.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-idempotent-methods
 */
export const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
]);

/** Header that makes a POST or PATCH safe to retry: the peer performs a request with a known key only once. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** Anything with a zod-like `parse` that checks an unknown value and returns it typed (or throws). */
export interface ResponseSchema<T> {
  parse(input: unknown): T;
}

/** Options of one call. */
export interface CallOptions<T = unknown> {
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Query parameters, appended to the path; `undefined` values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /**
   * Timeout of each attempt in milliseconds.
   * @default - the peer's `timeoutMs` (2000)
   */
  readonly timeoutMs?: number;
  /**
   * Sent as `Idempotency-Key`; makes a POST or PATCH retryable because the peer can recognise a repeat.
   * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
   */
  readonly idempotencyKey?: string;
  /** Cancels the whole call (every attempt and backoff); the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Request id sent as `x-request-id`.
   * @default - the `requestId` source of `createServiceClients` (the current request's id)
   */
  readonly requestId?: string;
  /**
   * Low-cardinality route for span names, e.g. `/stock/{sku}`.
   * @default - the path
   */
  readonly route?: string;
  /** Checks the 2xx response body (e.g. a zod schema); a body it rejects gives `PeerInvalidResponseError`. */
  readonly schema?: ResponseSchema<T>;
}

/** A successful (1xx-3xx) response. Errors are thrown as typed errors instead (see `errors.ts`). */
export interface PeerResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the peer sent JSON, the text otherwise, `undefined` when empty. Typed by `T`, checked only with `schema`. */
  readonly body: T;
}

/** How a {@link PeerClient} is wired; built by `createServiceClients`. */
export interface PeerClientConfig {
  readonly peer: string;
  /** The peer's declared base URL (`PEER_<NAME>_URL`). */
  readonly declaredUrl: string;
  readonly resolver: PeerResolver;
  readonly options: ResolvedPeerOptions;
  readonly policies: PeerPolicies;
  readonly requestId: () => string | undefined;
}

const tracer = trace.getTracer('@flotilla/runtime');

/**
 * Calls one peer service. Get one with `clients.client('inventory')`; it is shared, and so are its circuit
 * breaker and bulkhead.
 *
 * Every call: resolves an instance per attempt; sends JSON (`body` is `JSON.stringify`-ed); times out each
 * attempt (`timeoutMs`); retries idempotent calls (GET, HEAD, OPTIONS, PUT, DELETE, or any call with an
 * `idempotencyKey`) on connection errors, timeouts, 502/503/504 and 429 with backoff, honouring Retry-After;
 * passes the peer's circuit breaker and bulkhead; sends `traceparent` (and the other registered propagators'
 * headers) and `x-request-id`; resolves with the response or rejects with a `PeerCallError`.
 *
 * @example
 * const inventory = clients.client('inventory');
 * const { body } = await inventory.get<Stock>(`/stock/${sku}`, { route: '/stock/{sku}' });
 * await inventory.post('/reservations', { sku, qty }, { idempotencyKey: orderId });
 */
export class PeerClient {
  /** The peer's service name. */
  readonly peer: string;

  constructor(private readonly config: PeerClientConfig) {
    this.peer = config.peer;
  }

  /** State of this peer's circuit breaker: `closed` (normal), `open` (failing fast), `half-open` (testing). */
  get circuitState(): CircuitStateName {
    return this.config.policies.circuitState;
  }

  get<T = unknown>(path: string, options?: CallOptions<T>): Promise<PeerResponse<T>> {
    return this.request<T>('GET', path, undefined, options);
  }

  head(path: string, options?: CallOptions<undefined>): Promise<PeerResponse<undefined>> {
    return this.request<undefined>('HEAD', path, undefined, options);
  }

  delete<T = unknown>(path: string, options?: CallOptions<T>): Promise<PeerResponse<T>> {
    return this.request<T>('DELETE', path, undefined, options);
  }

  /** POST is not retried unless the call has an `idempotencyKey` (or an `Idempotency-Key` header). */
  post<T = unknown>(path: string, body?: unknown, options?: CallOptions<T>): Promise<PeerResponse<T>> {
    return this.request<T>('POST', path, body, options);
  }

  put<T = unknown>(path: string, body?: unknown, options?: CallOptions<T>): Promise<PeerResponse<T>> {
    return this.request<T>('PUT', path, body, options);
  }

  /** PATCH is not retried unless the call has an `idempotencyKey` (or an `Idempotency-Key` header). */
  patch<T = unknown>(path: string, body?: unknown, options?: CallOptions<T>): Promise<PeerResponse<T>> {
    return this.request<T>('PATCH', path, body, options);
  }

  /** Sends any method; the shorthands above call this. */
  async request<T = unknown>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    options: CallOptions<T> = {},
  ): Promise<PeerResponse<T>> {
    if (!path.startsWith('/')) {
      throw new TypeError(`Path '${path}' of a call to '${this.peer}' must start with '/', e.g. '/${path}'.`);
    }
    const { options: peerOptions, policies } = this.config;
    const target: PeerCallTarget = { peer: this.peer, method, path: path.split('?')[0] ?? path };
    const headers = buildHeaders(options, this.config.requestId);
    const retryable = IDEMPOTENT_METHODS.has(method) || IDEMPOTENCY_KEY_HEADER in headers;
    const timeoutMs = options.timeoutMs ?? peerOptions.timeoutMs;
    const route = options.route ?? target.path;
    const payload = body === undefined ? undefined : JSON.stringify(body);

    return tracer.startActiveSpan(
      `call ${this.peer} ${method} ${route}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'flotilla.peer': this.peer,
          [ATTR_HTTP_REQUEST_METHOD]: method,
          'flotilla.retryable': retryable,
        },
      },
      async (callSpan) => {
        let attempts = 0;
        try {
          const res = await policies.execute(target, retryable, timeoutMs, options.signal, (ctx) => {
            attempts = ctx.attempt;
            return this.attempt<T>(target, path, route, ctx, headers, payload, timeoutMs, options);
          });
          callSpan.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.status);
          return res;
        } catch (err) {
          const thrown = options.signal?.aborted ? (options.signal.reason as unknown) : err;
          callSpan.setAttribute(ATTR_ERROR_TYPE, errorType(thrown));
          callSpan.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(thrown) });
          if (thrown instanceof Error) callSpan.recordException(thrown);
          throw thrown;
        } finally {
          callSpan.setAttribute('flotilla.attempts', attempts);
          callSpan.end();
        }
      },
    );
  }

  /** One HTTP exchange, its own CLIENT span, child of the call's span. */
  private async attempt<T>(
    target: PeerCallTarget,
    fullPath: string,
    route: string,
    ctx: AttemptContext,
    baseHeaders: Readonly<Record<string, string>>,
    payload: string | undefined,
    timeoutMs: number,
    options: CallOptions<T>,
  ): Promise<PeerResponse<T>> {
    const base = await this.config.resolver.resolve(this.peer, this.config.declaredUrl);
    const url = new URL(base.replace(/\/+$/, '') + fullPath);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.append(k, String(v));
    const span = tracer.startSpan(`${target.method} ${this.peer} ${route}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: target.method,
        [ATTR_SERVER_ADDRESS]: url.hostname,
        [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        [ATTR_URL_FULL]: url.toString(),
        'flotilla.peer': this.peer,
        'flotilla.attempt': ctx.attempt,
      },
    });
    const headers: Record<string, string> = { ...baseHeaders };
    if (payload !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
    propagation.inject(trace.setSpan(context.active(), span), headers);
    try {
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, { method: target.method, headers, body: payload, signal: ctx.signal });
        // Inside the attempt, so the timeout covers a body that trickles in.
        text = await res.text();
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (ctx.signal.aborted) throw new PeerTimeoutError(target, timeoutMs);
        throw new PeerUnavailableError(target, url.origin, err);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.status);
      const body = parseBody(res, text);
      if (res.status >= 500) throw new PeerServerError(target, res.status, body.value, res.headers);
      if (res.status >= 400) throw new PeerClientError(target, res.status, body.value, res.headers);
      if (body.error)
        throw new PeerInvalidResponseError(target, res.status, 'it is not valid JSON', body.error);
      let value = body.value as T;
      if (options.schema) {
        try {
          value = options.schema.parse(body.value);
        } catch (err) {
          throw new PeerInvalidResponseError(
            target,
            res.status,
            `the schema rejected it: ${errorMessage(err)}`,
            err,
          );
        }
      }
      return { status: res.status, headers: res.headers, body: value };
    } catch (err) {
      endWithError(span, err);
      throw err;
    } finally {
      span.end();
    }
  }
}

/** Caller's headers, plus the request id and idempotency key; header names in lower case. */
function buildHeaders(
  options: CallOptions<unknown>,
  requestId: () => string | undefined,
): Record<string, string> {
  const out: Record<string, string> = { accept: 'application/json' };
  for (const [k, v] of Object.entries(options.headers ?? {})) out[k.toLowerCase()] = v;
  const id = options.requestId ?? out[REQUEST_ID_HEADER] ?? requestId();
  if (id) out[REQUEST_ID_HEADER] = id;
  if (options.idempotencyKey !== undefined) out[IDEMPOTENCY_KEY_HEADER] = options.idempotencyKey;
  return out;
}

function parseBody(res: Response, text: string): { value: unknown; error?: unknown } {
  if (text.length === 0) return { value: undefined };
  if (!/[/+]json\b/i.test(res.headers.get('content-type') ?? '')) return { value: text };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { value: text, error };
  }
}

function endWithError(span: Span, err: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, errorType(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(err) });
}

/** `error.type` per the semantic conventions: the status code for HTTP errors, the class name otherwise. */
function errorType(err: unknown): string {
  if (err instanceof PeerClientError || err instanceof PeerServerError) return String(err.status);
  if (err instanceof Error) return err.name;
  return '_OTHER';
}
