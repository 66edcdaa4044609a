/** Characters a JSON string must escape (`"`, `\`, controls) or that JSON.stringify escapes (lone surrogates). */
// eslint-disable-next-line no-control-regex -- the control characters are what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `value` as a JSON string literal, exactly as `JSON.stringify(value)` writes it; text without characters to
 * escape (ids, routes, most paths) is quoted as it is, without JSON.stringify's slower general path.
 */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}
