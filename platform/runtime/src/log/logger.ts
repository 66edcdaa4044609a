import { pino, type DestinationStream, type Logger } from 'pino';
import { activeTraceFields } from './trace-ids.js';

/** Header names whose values never reach a log line. */
const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'proxy-authorization'];
/** Field names whose values never reach a log line, at any of the first four levels of a logged object. */
const SECRET_FIELDS = ['password', 'secret', 'token', 'authorization', 'apiKey', 'api_key', 'accessToken', 'refreshToken'];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const h of SECRET_HEADERS) {
    // Bracket notation: header names contain '-', which the path syntax does not allow after a dot.
    const key = `headers["${h}"]`;
    paths.push(key, `*.${key}`, `*.*.${key}`);
  }
  for (const f of SECRET_FIELDS) paths.push(f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`);
  return paths;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Service name, the `service` field of every line. */
  readonly name: string;
  /** @default 'info' */
  readonly level?: string;
  /** Extra fields on every line (e.g. `version`). @default - none */
  readonly base?: Readonly<Record<string, unknown>>;
  /**
   * Where lines go. @default - stdout, written synchronously (pino's default): an asynchronous stream
   * lost or reordered the last lines before `process.exit`, and those are the lines that explain a shutdown.
   */
  readonly destination?: DestinationStream;
}

/**
 * The service logger: pino JSON, one line per event, each with `trace_id`, `span_id` and `xray_trace_id`
 * of the active span, and with auth headers and fields named like secrets replaced by `[redacted]`.
 * Modules take a child: `log.child({ module: 'outbox' })`.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.name, ...options.base },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: '[redacted]' },
      // Explicit fields win over the mixin, so a line about another request can name that request's trace.
      mixin: () => activeTraceFields() ?? {},
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ sync: true }),
  );
}

export type { Logger };
