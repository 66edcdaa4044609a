import type { Logger } from 'pino';

/**
 * Waits until the logger's buffered lines are written (bounded, so a blocked stdout cannot hold the
 * process), then exits. Lines logged just before exiting must not be lost or reordered.
 */
export async function flushAndExit(
  log: Logger,
  code: number,
  exit: (code: number) => never = process.exit,
): Promise<never> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 500);
    try {
      log.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
  return exit(code);
}
