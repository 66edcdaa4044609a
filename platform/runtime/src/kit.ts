/**
 * Contracts shared by the runtime's modules. Each module (http, database, messaging, client) takes what
 * it needs from here instead of importing another module, so they compose in `createService` and can be
 * used (and tested) on their own.
 */
import type { Logger } from 'pino';

export type { Logger };

/** Something that must be stopped on shutdown; hooks run in reverse order of registration. */
export type StopHook = () => Promise<void> | void;

export interface Lifecycle {
  /** Registers a named stop hook. The name appears in the log line when the hook does not finish in time. */
  onStop(name: string, hook: StopHook): void;
}

/** A readiness check resolves when the dependency is usable and rejects (or throws) with the reason when not. */
export type ReadinessCheck = () => Promise<void> | void;

export interface Health {
  /** Adds a named check to `/readyz`. */
  addReadinessCheck(name: string, check: ReadinessCheck): void;
}

/** The request id header: accepted and echoed by the HTTP layer, sent on every peer call and message. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The message of a thrown value: `Error.message`, else its string form (for log lines and reports). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
