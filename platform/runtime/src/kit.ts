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

/** How a readiness check counts. */
export interface ReadinessCheckOptions {
  /**
   * Whether a failure of the check fails readiness (503, the pod out of the load balancer). A check that
   * reports on something HTTP traffic does not need (a queue consumer) sets `false`: its state still shows
   * in `/readyz`'s body, without taking the pod out of service.
   * @default true
   */
  readonly affectsReadiness?: boolean;
}

export interface Health {
  /** Adds a named check to `/readyz`. */
  addReadinessCheck(name: string, check: ReadinessCheck, options?: ReadinessCheckOptions): void;
}

/** The request id header: accepted and echoed by the HTTP layer, sent on every peer call and message. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The message of a thrown value: `Error.message`, else its string form (for log lines and reports). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
