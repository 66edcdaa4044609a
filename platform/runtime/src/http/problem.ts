/**
 * RFC 9457 problem details: every error response of a kit service has this shape.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
import { STATUS_CODES } from 'node:http';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One invalid field of a request. */
export interface FieldError {
  /** Which part of the request: `body`, `params`, `query` or `headers`. */
  readonly location: 'body' | 'params' | 'query' | 'headers';
  /** Path of the field inside that part, e.g. `items[0].quantity`; empty for the part as a whole. */
  readonly path: string;
  /** What was wrong and what was expected. */
  readonly message: string;
}

/** An RFC 9457 problem document. Extension members are allowed. */
export interface Problem {
  /** URI reference identifying the problem type. @default 'about:blank' */
  readonly type: string;
  /** Short summary of the problem type. @default - the HTTP status phrase */
  readonly title: string;
  readonly status: number;
  /** Explanation specific to this occurrence, written for the caller. */
  readonly detail?: string;
  /** The request path this occurrence is about. */
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/** Problem types the kit itself answers with. */
export const PROBLEM_TYPES = {
  validation: 'urn:flotilla:problem:validation-failed',
  malformedJson: 'urn:flotilla:problem:malformed-json',
  /** A request the service cannot read: a path that does not decode, a body that does not decompress. */
  malformedRequest: 'urn:flotilla:problem:malformed-request',
  notFound: 'urn:flotilla:problem:not-found',
  /** The path exists, but not with this method (the `Allow` header lists the methods it takes). */
  methodNotAllowed: 'urn:flotilla:problem:method-not-allowed',
  tooLarge: 'urn:flotilla:problem:payload-too-large',
  unsupportedMediaType: 'urn:flotilla:problem:unsupported-media-type',
  internal: 'urn:flotilla:problem:internal-error',
} as const;

/** Options of {@link HttpError}. */
export interface HttpErrorOptions {
  /** Problem type URI. @default 'about:blank' */
  readonly type?: string;
  /** @default - the HTTP status phrase, e.g. `Conflict` */
  readonly title?: string;
  /**
   * Seconds (or a date) after which the caller may retry; sets the `Retry-After` header.
   * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
   */
  readonly retryAfter?: number | Date;
  /** Extension members added to the problem, e.g. `{ orderId }`. @default - none */
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/**
 * An error a handler throws to answer with a problem: `throw new HttpError(409, 'Order 42 is already paid')`.
 * The kit's error handler turns it into `application/problem+json` with that status.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly type: string;
  readonly title: string;
  readonly retryAfter: number | Date | undefined;
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(
    readonly status: number,
    readonly detail?: string,
    options: HttpErrorOptions = {},
  ) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(
        `HttpError status must be an integer 400-599, got ${status}; use a 4xx or 5xx code`,
      );
    }
    super(detail ?? STATUS_CODES[status] ?? `HTTP ${status}`, { cause: options.cause });
    this.type = options.type ?? 'about:blank';
    this.title = options.title ?? STATUS_CODES[status] ?? `HTTP ${status}`;
    this.retryAfter = options.retryAfter;
    this.extensions = options.extensions ?? {};
  }

  /** The problem document for a request path. */
  toProblem(instance?: string): Problem {
    // Standard members first (readable), then extensions; extensions never override standard members.
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
      ...omit(this.extensions, STANDARD_MEMBERS),
    };
  }
}

const STANDARD_MEMBERS = ['type', 'title', 'status', 'detail', 'instance'];

function omit(o: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

/** A 400 for invalid fields (what `validate()` throws). */
export class ValidationError extends HttpError {
  constructor(readonly errors: readonly FieldError[]) {
    super(400, describe(errors), {
      type: PROBLEM_TYPES.validation,
      title: 'Request validation failed',
      extensions: { errors },
    });
  }
}

function describe(errors: readonly FieldError[]): string {
  const first = errors[0];
  if (first === undefined) return 'The request is invalid.';
  const where = `${first.location}${first.path === '' ? '' : `.${first.path}`}`;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more; see "errors")` : '';
  return `${where}: ${first.message}${more}`;
}
