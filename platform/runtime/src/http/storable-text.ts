/**
 * Strings PostgreSQL cannot store, refused where they enter a service. PostgreSQL's `text` and `jsonb`
 * cannot hold the character U+0000 (NUL), and a UTF-16 surrogate without its pair is not a character: it has
 * no UTF-8 encoding. Such a string reaching the database fails the query, and the request would get a 500
 * for what is the client's mistake (issue 11: five such orders opened orders' circuit breaker to inventory).
 * @see https://www.postgresql.org/docs/current/datatype-character.html
 * @see https://www.postgresql.org/docs/current/datatype-json.html
 */
import type { NextFunction, Request, Response } from 'express';
import { ValidationError, type FieldError } from './problem.js';

/**
 * NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. Without the
 * `u` flag the pattern sees UTF-16 code units, which is what makes the lone halves visible.
 */
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with a string that fails {@link isStorableText}, for a field error. */
export const UNSTORABLE_TEXT_MESSAGE =
  'contains a NUL character (U+0000) or a UTF-16 surrogate without its pair, which no text field can hold; remove it';

/** Whether PostgreSQL can store `s` as text: no NUL and no unpaired surrogate. */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** Field errors beyond this many are not listed: a hostile body may hold thousands. */
const MAX_REPORTED = 20;

/** Where a value sits in a parsed body: its key or index, and its parent's place (`undefined` at the root). */
interface Place {
  readonly key: string | number;
  readonly parent: Place | undefined;
}

/** `items[0].sku` for a place, built only for what is reported (paths of deep bodies are long). */
function pathOf(place: Place | undefined): string {
  const keys: (string | number)[] = [];
  for (let p = place; p !== undefined; p = p.parent) keys.push(p.key);
  let out = '';
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i] as string | number;
    out += typeof key === 'number' ? `[${key}]` : out === '' ? key : `.${key}`;
  }
  return out;
}

/**
 * The paths of the strings in a parsed JSON value (values and object keys) that PostgreSQL cannot store.
 * Iterative, so a body nested thousands of levels deep is walked without exhausting the stack.
 */
export function unstorableStrings(value: unknown): string[] {
  const found: string[] = [];
  const stack: [unknown, Place | undefined][] = [[value, undefined]];
  while (stack.length > 0 && found.length < MAX_REPORTED) {
    const [v, place] = stack.pop() as [unknown, Place | undefined];
    if (typeof v === 'string') {
      if (!isStorableText(v)) found.push(pathOf(place));
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], { key: i, parent: place }]);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const at: Place = { key, parent: place };
        if (!isStorableText(key)) found.push(pathOf(at));
        else stack.push([(v as Record<string, unknown>)[key], at]);
      }
    }
  }
  return found;
}

/** Where a percent-encoded NUL sits in a request target: the path or the query string. */
function encodedNulIn(url: string): FieldError['location'] | undefined {
  const at = url.indexOf('%00');
  if (at < 0) return undefined;
  const query = url.indexOf('?');
  return query >= 0 && query < at ? 'query' : 'params';
}

const ESCAPE_FREE = Symbol('flotilla.escapeFreeBody');
type WithEscapeMark = Request & { [ESCAPE_FREE]?: true };
/** `\u`: how a JSON text writes a character by its code (`\u0000`, `\ud800`). */
const UNICODE_ESCAPE = Buffer.from('\\u');

/**
 * Tells {@link refuseUnstorableText} that the request's body, valid UTF-8 JSON text, has no `\u` escape. Its
 * parsed value then holds no unstorable text and needs no walk: JSON forbids raw control characters in
 * strings (a raw NUL does not parse), and valid UTF-8 cannot encode a surrogate, so NUL and lone surrogates
 * can only arrive escaped.
 * @see https://www.rfc-editor.org/rfc/rfc8259#section-7
 */
export function markEscapeFree(req: object, utf8Body: Buffer): void {
  if (utf8Body.indexOf(UNICODE_ESCAPE) === -1) (req as WithEscapeMark)[ESCAPE_FREE] = true;
}

/**
 * Refuses, with a 400 naming the place, a request whose URL holds a percent-encoded NUL or whose parsed JSON
 * body holds a string PostgreSQL cannot store, before any route sees it. Runs for every route, validated or
 * not. Other ways in need no check here: a percent-encoded lone surrogate is not valid UTF-8, so decoding a
 * path parameter fails (400) and the query parser replaces it with U+FFFD; Node refuses NUL in headers.
 */
export function refuseUnstorableText(req: Request, _res: Response, next: NextFunction): void {
  const inUrl = encodedNulIn(req.url);
  if (inUrl !== undefined) {
    throw new ValidationError([
      {
        location: inUrl,
        path: '',
        message: `contains %00 (a NUL character), which no text field can hold; remove it`,
      },
    ]);
  }
  if (req.body !== undefined && (req as WithEscapeMark)[ESCAPE_FREE] !== true) {
    const paths = unstorableStrings(req.body);
    if (paths.length > 0) {
      throw new ValidationError(
        paths.map((path) => ({ location: 'body', path, message: UNSTORABLE_TEXT_MESSAGE })),
      );
    }
  }
  next();
}
