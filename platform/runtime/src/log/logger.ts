import { pino, type DestinationStream, type Logger } from 'pino';
import { stdoutDestination } from './destination.js';
import { redactSecrets } from './redact.js';
import { activeTraceFields } from './trace-ids.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Service name, the `service` field of every line. */
  readonly name: string;
  /** @default 'info' */
  readonly level?: string;
  /** Extra fields on every line (e.g. `version`). @default - none */
  readonly base?: Readonly<Record<string, unknown>>;
  /**
   * Where lines go. @default - stdout, lines logged within 10 ms of each other in one synchronous write
   * ({@link stdoutDestination})
   */
  readonly destination?: DestinationStream;
}

/**
 * The service logger: pino JSON, one line per event, each with `trace_id`, `span_id` and `xray_trace_id`
 * of the active span, and with auth headers (`authorization`, `cookie`, `set-cookie`, `x-api-key`) and
 * fields named like secrets (`password`, `secret`, `token`, `...Password`, `apiKey`) replaced by
 * `[redacted]` at any depth up to 6. Child logger bindings are not searched: bind ids, never secrets.
 * Modules take a child: `log.child({ module: 'outbox' })`.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.name, ...options.base },
      messageKey: 'msg',
      timestamp: isoTimeOncePerMillisecond(),
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactSecrets(obj),
      },
      // Explicit fields win over the mixin, so a line about another request can name that request's trace;
      // a line that brings its own (the request line) skips the lookup of the active span and the copy.
      mixin: (fields) =>
        (fields as { trace_id?: unknown }).trace_id !== undefined ? NONE : (activeTraceFields() ?? NONE),
      mixinMergeStrategy: (fields, mixed) => (mixed === NONE ? fields : Object.assign(mixed, fields)),
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.destination ?? stdoutDestination(),
  );
}

/**
 * pino's `isoTime` field, formatted once per millisecond: under load several lines share a millisecond, and
 * `toISOString` (~0.5 µs) was the largest single cost of a request line after the serialization itself.
 */
function isoTimeOncePerMillisecond(): () => string {
  let formattedMs = -1;
  let field = '';
  return () => {
    const now = Date.now();
    if (now !== formattedMs) {
      formattedMs = now;
      field = `,"time":"${new Date(now).toISOString()}"`;
    }
    return field;
  };
}

/** The mixin's answer when it adds nothing: merged by returning the line's own fields, never mutated. */
const NONE = Object.freeze({});

export type { Logger };
