/**
 * The moto tier of the tests: suites that need moto's server run when FLOTILLA_MOTO_SERVER names it (make
 * test sets it), are skipped with a message otherwise, and fail in CI (CI=true), where the tier must run.
 * Kept apart from ./moto-server.ts and ./messaging-stack.ts, which fixtures outside jest import too.
 */
import { describe, test } from '@jest/globals';
import type { MessagingBackendKind } from './messaging-stack.js';
import { HOW_TO_RUN_MOTO, MOTO_SERVER } from './moto-server.js';

/**
 * Declares tests that need moto: run when FLOTILLA_MOTO_SERVER is set; otherwise skipped with a message,
 * or failing in CI (CI=true), where the moto tier must run.
 */
export function describeMoto(title: string, body: () => void): void {
  if (MOTO_SERVER) return describe(`${title} [moto]`, body);
  describe(`${title} [moto]`, () => {
    if (process.env.CI === 'true') {
      test('the moto tier has a server', () => {
        throw new Error(
          `CI=true but FLOTILLA_MOTO_SERVER is not set, so the moto tier cannot run: ${HOW_TO_RUN_MOTO}`,
        );
      });
    } else {
      test.skip(`moto tier skipped: ${HOW_TO_RUN_MOTO}`, () => undefined);
    }
  });
}

/**
 * Declares `body` once per backend: fauxqs always, moto when FLOTILLA_MOTO_SERVER names its server
 * (skipped with a message otherwise, failing in CI).
 */
export function describeEachBackend(title: string, body: (kind: MessagingBackendKind) => void): void {
  describe(`${title} [fauxqs]`, () => body('fauxqs'));
  describeMoto(title, () => body('moto'));
}
