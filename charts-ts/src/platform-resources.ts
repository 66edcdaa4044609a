/**
 * The AWS and CRD half of a system chart: messaging, identity, telemetry, logging, databases and
 * discovery resources, chosen by the environment's platform. `system-chart.ts` calls this once per chart.
 */
import type { System } from '@flotilla/model';
import type { Construct } from 'constructs';

/** What {@link addPlatformResources} needs to know. */
export interface PlatformResourcesContext {
  /** The validated system model. */
  readonly system: System;
  /**
   * The environment being synthesized. Typed loosely until `environments/types.ts` lands; narrowed to
   * the chart environment type in the next commit.
   */
  readonly environment: object;
}

/**
 * Adds every platform resource of the environment to `scope`.
 * Minimal for now: resources are added construct by construct in later commits.
 */
export function addPlatformResources(scope: Construct, ctx: PlatformResourcesContext): void {
  void scope;
  void ctx;
}
