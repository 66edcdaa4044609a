/** The one-service system and the local environment the kit services of the benchmarks run in. */
import { defineService, defineSystem, envFor, literalEnv, type RuntimeEnvironment } from '@flotilla/model';
import { prod } from '../../../charts-ts/src/environments/index.js';
import { freePort } from './ports.js';

export const benchSystem = defineSystem({
  name: 'bench',
  topics: [],
  services: [defineService({ name: 'catalog', port: 8080, routes: ['/api/items'] })],
});

export const benchSystemWithDatabase = defineSystem({
  name: 'bench',
  topics: [],
  services: [defineService({ name: 'catalog', port: 8080, routes: ['/api/items'], database: true })],
});

/** A `make dev`-like local environment; `port` overrides the model's port (static discovery allows it). */
export function localEnvironment(options: {
  otlpEndpoint: string;
  port: number;
  dataDir?: string;
  /** Share of new traces sampled. @default 1 (every trace, as `make dev` samples) */
  samplingRatio?: number;
}): RuntimeEnvironment {
  return {
    name: 'local',
    platform: 'local',
    namespace: 'default',
    aws: { region: 'us-east-1', accountId: '000000000000' },
    discovery: { method: 'static' },
    telemetry: { otlpEndpoint: options.otlpEndpoint, samplingRatio: options.samplingRatio },
    database: { kind: 'embedded', dataDir: options.dataDir ?? '.dev/data' },
    ports: { catalog: options.port },
  };
}

/** The variables `make dev` would give the `catalog` service (envFor), as a process environment. */
export function catalogEnv(
  system: typeof benchSystem,
  environment: RuntimeEnvironment,
): Record<string, string> {
  return literalEnv(envFor(system, 'catalog', environment));
}

/**
 * The variables of the HTTP suite's kit service (in the suite and its profiler): `catalogEnv` for a local
 * environment on a free port with the prod environment's share of sampled traces, `extra` on top.
 */
export async function httpKitEnv(
  otlpEndpoint: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const environment = localEnvironment({
    otlpEndpoint,
    port: await freePort(),
    samplingRatio: prod.runtime.telemetry.samplingRatio,
  });
  return { ...catalogEnv(benchSystem, environment), ...extra };
}
