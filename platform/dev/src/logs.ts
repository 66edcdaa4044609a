/**
 * Readable local logs: each service's JSON (pino) lines shown as one compact line, prefixed with the
 * service name. `FLOTILLA_RAW_LOGS=1` keeps the raw JSON (for piping into jq).
 */

export interface LogFormatOptions {
  /** Keep each line as the service wrote it. @default false */
  readonly raw?: boolean;
  /** ANSI colours (on when writing to a terminal). @default false */
  readonly color?: boolean;
  /** Width the service name is padded to. @default 13 */
  readonly nameWidth?: number;
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_COLORS: Record<string, string> = {
  TRACE: '90',
  DEBUG: '90',
  INFO: '32',
  WARN: '33',
  ERROR: '31',
  FATAL: '35',
};
const SERVICE_COLORS = ['36', '35', '33', '34', '32', '96', '95', '93'];
/** Fields every pino line has, or that the prefix already shows. */
const OMITTED = new Set([
  'level',
  'time',
  'msg',
  'pid',
  'hostname',
  'service',
  'name',
  'v',
  'spanId',
  'trace_flags',
]);
const MAX_VALUE = 120;

function paint(color: boolean, code: string, text: string): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** A stable colour per service name, so each service's lines are easy to follow. */
function serviceColor(name: string): string {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return SERVICE_COLORS[hash % SERVICE_COLORS.length]!;
}

/** The `[name]` prefix of a line. */
export function prefix(name: string, options: LogFormatOptions = {}): string {
  return paint(options.color ?? false, serviceColor(name), name.padEnd(options.nameWidth ?? 13));
}

function levelName(level: unknown): string {
  if (typeof level === 'number') return LEVELS[level] ?? String(level);
  if (typeof level === 'string') return level.toUpperCase();
  return 'INFO';
}

function timeOf(time: unknown): string {
  const date = typeof time === 'number' || typeof time === 'string' ? new Date(time) : new Date();
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().slice(11, 23);
}

function compact(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/**
 * One output line for a line a service wrote: `name  12:00:01.234 INFO  message key=value ...`.
 * Lines that are not JSON objects are shown as they are. An `err` field adds its stack below.
 */
export function formatLogLine(name: string, line: string, options: LogFormatOptions = {}): string {
  const color = options.color ?? false;
  const head = prefix(name, options);
  if (options.raw || !line.startsWith('{')) return `${head} ${line}`;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return `${head} ${line}`;
    record = parsed as Record<string, unknown>;
  } catch {
    return `${head} ${line}`;
  }
  const level = levelName(record.level);
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (OMITTED.has(key) || value === undefined) continue;
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { message?: unknown; stack?: unknown };
      fields.push(`err=${compact(err.message ?? value)}`);
      if (typeof err.stack === 'string') stack = err.stack;
      continue;
    }
    // A trace id is long; its first 8 characters are enough to find the trace on the /traces page.
    fields.push(
      key === 'traceId' && typeof value === 'string'
        ? `trace=${value.slice(0, 8)}`
        : `${key}=${compact(value)}`,
    );
  }
  const levelText = paint(color, LEVEL_COLORS[level] ?? '0', level.padEnd(5));
  const msg = typeof record.msg === 'string' ? record.msg : '';
  const rest = fields.length ? ` ${paint(color, '90', fields.join(' '))}` : '';
  const main = `${head} ${paint(color, '90', timeOf(record.time))} ${levelText} ${msg}${rest}`;
  if (!stack) return main;
  const indent = ' '.repeat((options.nameWidth ?? 13) + 1);
  return [
    main,
    ...stack
      .split('\n')
      .slice(1)
      .map((l) => `${indent}${l.trim()}`),
  ].join('\n');
}
