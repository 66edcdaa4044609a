import { describe, expect, it } from '@jest/globals';
import { ENV } from '@flotilla/model';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../src/index.js';
import { baseEnv, spawnChildService } from './support/child-service.js';

const valid = {
  SERVICE_NAME: 'orders',
  PORT: '8080',
  FLOTILLA_ENVIRONMENT: 'prod',
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads the variables envFor writes into a typed config, with documented defaults for optional ones', () => {
    const config = loadConfig(undefined, valid);
    expect(config.service).toEqual({
      name: 'orders',
      version: '0.0.0-dev',
      environment: 'prod',
      platform: undefined,
    });
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('info');
    expect(config.shutdown).toEqual({ drainMs: 0, timeoutMs: 10_000 });
    expect(config.telemetry).toMatchObject({
      disabled: false,
      serviceName: 'orders',
      tracesUrl: undefined,
      protocol: 'http/protobuf',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 1,
    });
  });

  it('reads the variable names from the model', () => {
    const config = loadConfig(undefined, {
      [ENV.serviceName]: 'payments',
      [ENV.serviceVersion]: '1.2.3',
      [ENV.port]: '0',
      [ENV.environment]: 'dev',
      [ENV.platform]: 'eks',
      [ENV.logLevel]: 'debug',
      [ENV.shutdownDrainMs]: '5000',
      [ENV.shutdownTimeoutMs]: '20000',
      [ENV.podName]: 'payments-7d9f-abcde',
      [ENV.podNamespace]: 'shop',
      [ENV.nodeName]: 'ip-10-0-1-2',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=dev,team=shop',
    });
    expect(config.service).toEqual({
      name: 'payments',
      version: '1.2.3',
      environment: 'dev',
      platform: 'eks',
    });
    expect(config.shutdown).toEqual({ drainMs: 5000, timeoutMs: 20_000 });
    expect(config.kubernetes).toEqual({
      podName: 'payments-7d9f-abcde',
      namespace: 'shop',
      nodeName: 'ip-10-0-1-2',
    });
    expect(config.telemetry.tracesUrl).toBe('http://collector:4318/v1/traces');
    expect(config.telemetry.metricsUrl).toBe('http://collector:4318/v1/metrics');
    expect(config.telemetry.samplerRatio).toBe(0.25);
    expect(config.telemetry.resourceAttributes).toEqual({
      'deployment.environment.name': 'dev',
      team: 'shop',
    });
  });

  it("adds the service's own variables, typed", () => {
    const config = loadConfig(
      { PAYMENTS_TIMEOUT_MS: z.coerce.number().int(), FEATURE_X: z.enum(['on', 'off']).default('off') },
      {
        ...valid,
        PAYMENTS_TIMEOUT_MS: '1500',
      },
    );
    const timeout: number = config.PAYMENTS_TIMEOUT_MS;
    expect(timeout).toBe(1500);
    expect(config.FEATURE_X).toBe('off');
  });

  it('lists every missing or invalid variable in one error, with what was expected', () => {
    const err = configError(() =>
      loadConfig(
        { PAYMENTS_URL: z.url() },
        {
          PORT: 'eighty',
          LOG_LEVEL: 'loud',
          SHUTDOWN_TIMEOUT_MS: '-1',
          OTEL_TRACES_SAMPLER_ARG: '2',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,koa',
        },
      ),
    );
    const vars = err.issues.map((i) => i.variable).sort();
    expect(vars).toEqual(
      [
        'FLOTILLA_ENVIRONMENT',
        'LOG_LEVEL',
        'OTEL_EXPORTER_OTLP_PROTOCOL',
        'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
        'OTEL_TRACES_SAMPLER_ARG',
        'PAYMENTS_URL',
        'PORT',
        'SERVICE_NAME',
        'SHUTDOWN_TIMEOUT_MS',
      ].sort(),
    );
    const byVar = Object.fromEntries(err.issues.map((i) => [i.variable, i.message]));
    expect(byVar.SERVICE_NAME).toMatch(/^missing: expected the service name/);
    expect(byVar.PORT).toContain('port');
    expect(byVar.PORT).toContain('"eighty"');
    expect(byVar.LOG_LEVEL).toContain('info');
    expect(byVar.OTEL_EXPORTER_OTLP_PROTOCOL).toContain('http/protobuf');
    expect(byVar.PAYMENTS_URL).toMatch(/^missing/);
    expect(byVar.OTEL_NODE_ENABLED_INSTRUMENTATIONS).toContain(
      'unknown name "koa": expected a comma-separated list of http, express, aws-sdk, pg',
    );
    for (const v of vars) expect(err.message).toContain(`  - ${v}: `);
  });

  it('does not default required values', () => {
    const err = configError(() =>
      loadConfig(undefined, { SERVICE_NAME: 'orders', FLOTILLA_ENVIRONMENT: 'prod', PORT: '' }),
    );
    expect(err.issues.map((i) => i.variable)).toEqual(['PORT']);
  });

  it('rejects a service schema that redefines a base variable', () => {
    const err = configError(() => loadConfig({ PORT: z.string() }, valid));
    expect(err.issues[0]?.message).toContain('base variable');
  });

  it('reads the telemetry variables: OTEL_SERVICE_NAME wins, exporters can be off, instrumentations listed', () => {
    const t = loadConfig(undefined, {
      ...valid,
      OTEL_SERVICE_NAME: 'orders-api',
      OTEL_TRACES_EXPORTER: 'none',
    }).telemetry;
    expect(t.serviceName).toBe('orders-api');
    expect(t.tracesUrl).toBeUndefined();
    // The libraries under the kit's own spans; express is opt-in.
    expect(t.instrumentations).toEqual(['http', 'aws-sdk', 'pg']);
    expect(
      loadConfig(undefined, { ...valid, OTEL_NODE_ENABLED_INSTRUMENTATIONS: ' PG, express ' }).telemetry
        .instrumentations,
    ).toEqual(['pg', 'express']);
  });

  it("reads the batch span processor's OTEL_BSP_* variables (SDK 3.x no longer does), with the spec's defaults but a smaller batch", () => {
    expect(loadConfig(undefined, valid).telemetry.spanBatch).toEqual({
      scheduledDelayMillis: 5000,
      exportTimeoutMillis: 30_000,
      maxQueueSize: 2048,
      // Not the specification's 512: a batch is serialized on the event loop (see the variable's doc).
      maxExportBatchSize: 64,
    });
    const set = loadConfig(undefined, {
      ...valid,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_BSP_EXPORT_TIMEOUT: '2000',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500',
    }).telemetry.spanBatch;
    // A batch larger than the queue is the queue (the specification's rule).
    expect(set).toEqual({
      scheduledDelayMillis: 50,
      exportTimeoutMillis: 2000,
      maxQueueSize: 100,
      maxExportBatchSize: 100,
    });
    const error = configError(() =>
      loadConfig(undefined, { ...valid, OTEL_BSP_SCHEDULE_DELAY: '5s', OTEL_BSP_MAX_QUEUE_SIZE: '0' }),
    );
    expect(error.issues.map((i) => i.variable).sort()).toEqual([
      'OTEL_BSP_MAX_QUEUE_SIZE',
      'OTEL_BSP_SCHEDULE_DELAY',
    ]);
  });
});

describe('a service started with a bad environment', () => {
  it('logs one line listing every bad variable and exits non-zero', async () => {
    const env = baseEnv({ PORT: '99999', FIXTURE_STOP_HOOK_MS: 'soon' });
    delete (env as Record<string, string | undefined>).FLOTILLA_ENVIRONMENT;
    const child = spawnChildService('service.ts', env);
    const exit = await child.exited;
    expect(exit.code).toBe(78);
    const fatal = child.logs.filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    const issues = (fatal[0]?.issues as { variable: string }[]).map((i) => i.variable).sort();
    expect(issues).toEqual(['FIXTURE_STOP_HOOK_MS', 'FLOTILLA_ENVIRONMENT', 'PORT']);
    expect(fatal[0]?.msg).toContain('PORT');
    expect(child.logs.some((l) => typeof l.url === 'string')).toBe(false);
  });

  it('refuses to start with another service’s environment', async () => {
    const child = spawnChildService('service.ts', baseEnv({ SERVICE_NAME: 'payments' }));
    const exit = await child.exited;
    expect(exit.code).toBe(78);
    expect(child.logs.find((l) => l.level === 'fatal')?.msg).toContain(
      '"payments" but this is service "fixture"',
    );
  });
});
