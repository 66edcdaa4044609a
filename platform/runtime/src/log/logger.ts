import { pino, type DestinationStream, type Logger } from 'pino';
import { stdoutDestination } from './destination.js';
import { redactSecrets } from './redact.js';
import { jsonString } from './json-text.js';
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

/** The level as its label (`"level":"info"`), not pino's number. */
const levelField = (label: string) => ({ level: label });
/** How pino starts an `info` line with {@link levelField}: `{"level":"info"`. */
const INFO_LINE_START = JSON.stringify(levelField('info')).slice(0, -1);
/** pino's mark of a destination that reads each line's level (`pino.multistream`). */
const NEEDS_METADATA = Symbol.for('pino.metadata');

/**
 * The service logger: pino JSON, one line per event, each with `trace_id`, `span_id` and `xray_trace_id`
 * of the active span, and with auth headers (`authorization`, `cookie`, `set-cookie`, `x-api-key`) and
 * fields named like secrets (`password`, `secret`, `token`, `...Password`, `apiKey`) replaced by
 * `[redacted]` at any depth up to 6. Child logger bindings are not searched: bind ids, never secrets.
 * Modules take a child: `log.child({ module: 'outbox' })`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? stdoutDestination();
  const time = isoTime();
  const log = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.name, ...options.base },
      messageKey: 'msg',
      timestamp: time,
      formatters: {
        level: levelField,
        log: (obj) => redactSecrets(obj),
      },
      // Explicit fields win over the mixin, so a line about another request can name that request's trace;
      // a line that brings its own (the request line) skips the lookup of the active span and the copy.
      mixin: (fields) =>
        (fields as { trace_id?: unknown }).trace_id !== undefined ? NONE : (activeTraceFields() ?? NONE),
      mixinMergeStrategy: (fields, mixed) => (mixed === NONE ? fields : Object.assign(mixed, fields)),
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    destination,
  );
  // A destination that routes lines by their level (pino's multistream) needs pino's own write.
  if ((destination as { [NEEDS_METADATA]?: unknown })[NEEDS_METADATA] !== true) {
    const bindings = log as unknown as Record<typeof pino.symbols.chindingsSym, string>;
    infoLineWriters.set(log, (fields, message) =>
      destination.write(
        `${INFO_LINE_START}${time()}${bindings[pino.symbols.chindingsSym]}${fields},"msg":${jsonString(message)}}\n`,
      ),
    );
  }
  return log;
}

/**
 * Writes one `info` line whose fields are already JSON (`,"key":value` each), as `log.info(fields, message)`
 * writes it: the level, time and bindings first, then the fields, then `msg`. The caller checks that `info`
 * is enabled, and vouches that the fields need no redaction and that it names the trace itself (the trace
 * mixin is not run).
 */
export type InfoLineWriter = (fields: string, message: string) => void;

const infoLineWriters = new WeakMap<Logger, InfoLineWriter>();

/**
 * The {@link InfoLineWriter} of a logger made by {@link createLogger}, or undefined for any other logger
 * (a child, or one made by pino itself): those log through `log.info`.
 *
 * Why: the HTTP request line is written once per request. Built as text by the request observer, it costs
 * a fraction of pino's generic serialisation of the same object (its key walk, the redaction walk, the
 * mixin): 3.6 against 0.4 µs a line in an interleaved loop on the benchmark machine.
 */
export function infoLineWriter(log: Logger): InfoLineWriter | undefined {
  return infoLineWriters.get(log);
}

/** `000` to `999`. */
const MILLISECONDS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'));

/**
 * pino's `isoTime` field (`,"time":"2026-01-02T03:04:05.678Z"`), with `toISOString` called once per second:
 * the milliseconds are appended from a table. At a few thousand lines a second nearly every line has a
 * millisecond of its own, and `toISOString` cost ~0.5 µs a line.
 */
function isoTime(): () => string {
  let formattedMs = -1;
  let second = -1;
  let secondPrefix = '';
  let field = '';
  return () => {
    const now = Date.now();
    if (now !== formattedMs) {
      formattedMs = now;
      const ms = now % 1000;
      if (now - ms !== second) {
        second = now - ms;
        // `2026-01-02T03:04:05.` (UTC): the ISO form up to the milliseconds.
        secondPrefix = `,"time":"${new Date(second).toISOString().slice(0, 20)}`;
      }
      field = `${secondPrefix}${MILLISECONDS[ms] as string}Z"`;
    }
    return field;
  };
}

/** The mixin's answer when it adds nothing: merged by returning the line's own fields, never mutated. */
const NONE = Object.freeze({});

export type { Logger };
