/**
 * What SNS and SQS will accept, checked before a message is written to the outbox or handed to the
 * publisher: a body that serialises to JSON, strings a PostgreSQL `jsonb` column and the consumer's
 * database can store, and a size within the limit. A message that fails here would otherwise be refused by
 * AWS as the sender's fault (or fail the outbox insert with an obscure error) far from the code that built
 * it; here the producer gets an error naming the event and the field.
 */
import { UNSTORABLE_TEXT_MESSAGE, unstorableStrings } from '../http/storable-text.js';
import { outgoingAttributes, type Attributes, type OutgoingAttributes } from './attributes.js';
import type { EventEnvelope } from './envelope.js';
import { EventValidationError, type EventIssue } from './errors.js';

/**
 * The largest message, body plus attributes, that both SNS and SQS accept by default: 256 KiB (262,144
 * bytes). SNS counts each attribute's name, type and value toward it; SQS does the same. SQS raised its own
 * default to 1 MiB in 2025, but an SNS topic keeps 256 KiB unless its `MaximumMessageSize` is raised, and
 * queues created before keep theirs; raise `maxMessageBytes` where every destination accepts more.
 * @see https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export const MAX_MESSAGE_BYTES = 262_144;

/** A message body, checked. */
export interface EncodedMessage {
  /** The envelope's JSON: the message body. */
  readonly body: string;
  /** The attributes it is sent with. */
  readonly attributes: Attributes;
  /** Body plus attributes as SNS and SQS count them. */
  readonly bytes: number;
}

/** Bytes of a message as SNS and SQS count them: the body, and each attribute's name, type and value. */
export function messageBytes(body: string, attributes: Readonly<Attributes>): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

/**
 * The envelope's JSON, the message body.
 * @param what how the error names the operation, e.g. `Cannot publish`
 * @throws EventValidationError when `data` does not serialise to JSON (a BigInt, a cycle), naming the field
 */
export function serialiseEnvelope(envelope: EventEnvelope, what: string): string {
  try {
    return JSON.stringify(envelope);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new EventValidationError(
      envelope.type,
      [
        {
          path: unserialisablePath(envelope.data) ?? 'data',
          message: `cannot be serialised to JSON (${reason})`,
        },
      ],
      `${what} event ${envelope.type} (id ${envelope.id}): its data must be JSON (strings, numbers, booleans, ` +
        'null, arrays and plain objects; a BigInt as a string, no cycles)',
    );
  }
}

/**
 * Serialises `envelope` and checks that SNS and SQS will accept it and PostgreSQL can store it: what the
 * outbox checks when a row is written, so a row that is written can be delivered.
 * @param what how the error names the operation, e.g. `Cannot write to the outbox`
 * @throws EventValidationError when `data` does not serialise to JSON (a BigInt, a cycle); holds a string
 *   with a NUL, a lone surrogate (PostgreSQL refuses both) or U+FFFE/U+FFFF (SQS refuses them); or the
 *   message is over `maxBytes`
 */
export function encodeOutgoing(
  envelope: EventEnvelope,
  trace: Omit<OutgoingAttributes, 'type'>,
  what: string,
  maxBytes = MAX_MESSAGE_BYTES,
): EncodedMessage {
  const context = `${what} event ${envelope.type} (id ${envelope.id})`;
  const body = serialiseEnvelope(envelope, what);
  const unstorable: EventIssue[] = unstorableStrings(envelope.data).map((path) => ({
    path: path === '' ? 'data' : path.startsWith('[') ? `data${path}` : `data.${path}`,
    message: UNSTORABLE_TEXT_MESSAGE,
  }));
  // JSON escapes every other character SQS refuses (the control characters), but not these two.
  if (SQS_REFUSED.test(body))
    unstorable.push({ path: 'data', message: 'contains U+FFFE or U+FFFF, which SQS refuses; remove it' });
  if (unstorable.length > 0) {
    throw new EventValidationError(
      envelope.type,
      unstorable,
      `${context}: SNS/SQS or PostgreSQL cannot take it`,
    );
  }
  const attributes = outgoingAttributes({ type: envelope.type, ...trace });
  const bytes = messageBytes(body, attributes);
  if (bytes > maxBytes) {
    throw new EventValidationError(
      envelope.type,
      [
        {
          path: 'data',
          message: `the message is ${bytes} bytes with its attributes; SNS and SQS take at most ${maxBytes}`,
        },
      ],
      `${context}: too large. Send large payloads by reference (store them, e.g. in S3, and send the key)`,
    );
  }
  return { body, attributes, bytes };
}

/**
 * Characters outside what SQS accepts that JSON does not escape.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
const SQS_REFUSED = /[\uFFFE\uFFFF]/;

/** Path of the first value JSON cannot represent (a BigInt, or an object met again: a cycle). */
function unserialisablePath(data: unknown): string | undefined {
  let found: string | undefined;
  const onPath = new Set<object>();
  walk(
    data,
    (value, path) => {
      if (found === undefined && typeof value === 'bigint') found = path;
    },
    (value, path) => {
      if (onPath.has(value)) {
        found ??= path;
        return false;
      }
      onPath.add(value);
      return true;
    },
    (value) => onPath.delete(value),
  );
  return found;
}

/**
 * Depth-first over `root` (starting at path `data`), without recursion (deeply nested data must not
 * overflow the stack). `enter` may refuse to descend into an object; `leave` runs when an object's children
 * are done.
 */
function walk(
  root: unknown,
  visit: (value: unknown, path: string) => void,
  enter: (value: object, path: string) => boolean = () => true,
  leave: (value: object) => void = () => undefined,
): void {
  type Frame = { value: unknown; path: string } | { leave: object };
  const stack: Frame[] = [{ value: root, path: 'data' }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if ('leave' in frame) {
      leave(frame.leave);
      continue;
    }
    const { value, path } = frame;
    visit(value, path);
    if (typeof value !== 'object' || value === null) continue;
    if (!enter(value, path)) continue;
    stack.push({ leave: value });
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      stack.push({ value: child, path: Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}` });
    }
  }
}
