/**
 * The two steps of every run of the collector on an emitted configuration: start it with the loopback
 * overrides (printing exactly what was overridden or left out), then send one order through the shop.
 */
import type { CollectorBuild } from './build.js';
import { restrictTo, type EmittedCollectorConfig } from './configs.js';
import { loopbackOverrides, type LoopbackOptions } from './loopback.js';
import { startCollector, type RunningCollector } from './run.js';
import { newTraceId, placePaidOrder, startShop } from './shop-order.js';

/** Options of {@link startOnEmittedConfig}. */
export interface EmittedRunOptions extends Omit<LoopbackOptions, 'base'> {
  readonly build: CollectorBuild;
  readonly emitted: EmittedCollectorConfig;
  /** The collector's environment (credentials for moto). @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts the built collector on an emitted configuration, cut to the build and pointed at loopback. */
export async function startOnEmittedConfig(
  options: EmittedRunOptions,
): Promise<{ collector: RunningCollector; otlpHttpUrl: string }> {
  const { build, emitted, env, ...loopback } = options;
  const { config: base, changes } = restrictTo(emitted.config, build.components);
  const overrides = await loopbackOverrides({ ...loopback, base });
  process.stdout.write(
    `collector on dist/${emitted.env}'s config; overridden for this test:\n  ` +
      `${[...overrides.described, ...changes].join('\n  ')}\n`,
  );
  const collector = await startCollector({
    binary: build.binary,
    configs: [base, overrides.config],
    healthUrl: overrides.healthUrl,
    ...(env ? { env } : {}),
  });
  return { collector, otlpHttpUrl: overrides.otlpHttpUrl };
}

/**
 * Starts the shop exporting to `otlpHttpUrl`, places one order in a new trace, waits until it is PAID and
 * stops the shop (its services flush their spans and metrics). Returns the trace id and the shop's
 * runtime environment (for the names of its queues).
 */
export async function orderThroughShop(otlpHttpUrl: string) {
  const shop = await startShop(otlpHttpUrl);
  try {
    const traceId = newTraceId();
    await placePaidOrder(shop.stack, traceId);
    return { traceId, environment: shop.stack.environment };
  } finally {
    await shop.stop();
  }
}
