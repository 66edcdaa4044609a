/**
 * Which dependency a handler's failure blames, if any: the consumer pauses receiving while a dependency
 * is down, and retries such a message for the queue's whole retry window instead of dead-lettering it as
 * poison.
 *
 * Why a classification of the error rather than only readiness checks: the handler knows, at the moment it
 * fails, which call failed, with no extra declaration; a check run afterwards may already pass, or not cover
 * what failed (a peer's circuit). The consumer's declared checks (the inbox's database) complement it: a
 * failure while one fails counts as that dependency's, and they tell when to resume.
 *
 * Recognised, anywhere in the error's `cause` chain:
 * - {@link DependencyUnavailableError}, thrown by a handler that knows;
 * - the service client's errors for a peer that is down: circuit open, unreachable, timed out, bulkhead
 *   full, or 502/503/504 (by name and shape: the messaging module does not import the client module);
 * - a publish or AWS call that failed for a transient reason (not the sender's fault) or ran past its
 *   deadline (`AwsDeadlineError`);
 * - the database (PostgreSQL) unreachable: connection errors and SQLSTATE classes 08 (connection
 *   exception), 57P01-57P03 (shut down, cannot connect now) and 53300 (too many connections);
 * - a socket error (refused, reset, timed out, unreachable host or name).
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
import { DependencyUnavailableError } from './errors.js';

const PEER_DOWN = new Set([
  'CircuitOpenError',
  'PeerUnavailableError',
  'PeerTimeoutError',
  'BulkheadRejectedError',
]);
const PEER_DOWN_STATUS = new Set([502, 503, 504]);
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const PG_DOWN = /^(08...|57P0[123]|53300)$/;
const PG_DOWN_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  peer?: unknown;
  status?: unknown;
  address?: unknown;
  port?: unknown;
  operation?: unknown;
  severity?: unknown;
  failure?: { senderFault?: unknown };
  $metadata?: unknown;
  $fault?: unknown;
}

/** The dependency `err` blames (e.g. `peer inventory`, `database`), or undefined when it blames none. */
export function failedDependency(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current !== null && typeof current === 'object'; depth++) {
    const found = blamed(current as ErrorShape, current);
    if (found !== undefined) return found;
    current = (current as ErrorShape).cause;
  }
  return undefined;
}

function blamed(e: ErrorShape, err: unknown): string | undefined {
  if (err instanceof DependencyUnavailableError) return err.dependency;
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (typeof e.peer === 'string') {
    if (PEER_DOWN.has(name)) return `peer ${e.peer}`;
    if (name === 'PeerServerError' && PEER_DOWN_STATUS.has(Number(e.status))) return `peer ${e.peer}`;
  }
  if (name === 'PublishError' && e.failure?.senderFault === false) return 'SQS/SNS';
  // AwsDeadlineError's operation starts with the service: "SQS ReceiveMessage on ...", "Cloud Map ...".
  if (name === 'AwsDeadlineError' && typeof e.operation === 'string')
    return /^(Cloud Map|\S+)/.exec(e.operation)?.[1] ?? 'AWS';
  if (
    e.$metadata !== undefined &&
    (e.$fault === 'server' || /Throttl|TimeoutError|RequestTimeout/.test(name))
  )
    return 'AWS';
  const code = typeof e.code === 'string' ? e.code : '';
  if (typeof e.severity === 'string' && PG_DOWN.test(code)) return 'database';
  if (PG_DOWN_MESSAGE.test(message)) return 'database';
  if (SOCKET_CODES.has(code)) {
    return typeof e.address === 'string'
      ? `${e.address}:${String(e.port ?? '')} (${code})`
      : `the network (${code})`;
  }
  return undefined;
}
