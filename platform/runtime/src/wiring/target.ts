/**
 * What the wiring needs from a service built by `createService`: its name, logger, router, health registry
 * and lifecycle. A structural type, so any `Service<S>` fits whatever its own config shape.
 */
import type { Router } from 'express';
import type { Health, Logger } from '../kit.js';
import type { ServiceLifecycle } from '../lifecycle/lifecycle.js';

/** The parts of a `Service` (see `createService`) the `use*` functions plug into. */
export interface WiringTarget {
  readonly config: { readonly service: { readonly name: string } };
  readonly log: Logger;
  readonly router: Router;
  readonly health: Health;
  readonly lifecycle: ServiceLifecycle;
  /** The variables the service was built from. */
  readonly env: WiringEnv;
}

/** Environment variables as Node gives them (what `envFor` wrote for the service). */
export type WiringEnv = Readonly<Record<string, string | undefined>>;

/** Options every `use*` function takes. */
export interface WiringOptions {
  /**
   * Where the variables `envFor` wrote are read from.
   * @default the service's own (`createService({ env })`, else `process.env`)
   */
  readonly env?: WiringEnv;
}

/**
 * A variable `envFor` should have written is missing: the message names the variable, the service and the
 * declaration to fix.
 */
export class WiringConfigError extends Error {
  override readonly name = 'WiringConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** The value of `variable`, or a {@link WiringConfigError} that says what declares it. */
export function requireVar(env: WiringEnv, variable: string, service: string, declaredBy: string): string {
  const value = env[variable]?.trim();
  if (value) return value;
  throw new WiringConfigError(
    variable,
    `${variable} is not set in the environment of service '${service}'. ${declaredBy} ` +
      `(services/${service}/service.ts), so envFor writes it; when running by hand, start the process with envFor's variables.`,
  );
}
