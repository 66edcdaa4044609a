/** The one-service system and the local environment the kit services of the benchmarks run in. */
import { defineService, defineSystem, envFor, literalEnv, type RuntimeEnvironment } from '@flotilla/model';

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
