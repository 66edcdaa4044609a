/**
 * Environment files: the builders derive the model's view (`runtime`) from the environment, so a file says
 * each value once; a hand-written environment whose `runtime` disagrees is rejected naming each field.
 */
import { describe, expect, it } from '@jest/globals';
import { EMULATOR_ACCOUNT_ID } from '@flotilla/model';
import {
  dev,
  eksEnvironment,
  kindEnvironment,
  local,
  prod,
  type EksEnvironment,
} from '../src/environments/index.js';
import { EnvironmentError, validateEnvironment } from '../src/environments/validate.js';
import { environmentError } from './support/environment-error.js';

const settings = {
  discovery: { method: 'dns' },
  telemetry: { otlpEndpoint: 'http://collector:4318', samplingRatio: 0.5 },
  database: { kind: 'secret' },
} as const;

describe('environment builders', () => {
  it("give runtime the environment's name, platform, namespace, account, region and image tag", () => {
    const { runtime, ...rest } = prod;
    const env = eksEnvironment({ ...rest, name: 'staging', namespace: 'store' }, settings);
    expect(env.platform).toBe('eks');
    expect(env.runtime).toEqual({
      name: 'staging',
      platform: 'eks',
      namespace: 'store',
      aws: { region: prod.region, accountId: prod.accountId },
      ...settings,
      version: prod.image.tag,
    });
    expect(runtime.version).toBe(prod.image.tag);
  });

  it('keep a version given explicitly', () => {
    const { runtime: _runtime, ...rest } = dev;
    expect(eksEnvironment(rest, { ...settings, version: '1.2.3' }).runtime.version).toBe('1.2.3');
  });

  it("give a kind environment the emulator's account", () => {
    expect(local.platform).toBe('kind');
    expect(local.runtime).toMatchObject({
      name: 'local',
      platform: 'kind',
      namespace: local.namespace,
      aws: { region: 'us-east-1', accountId: EMULATOR_ACCOUNT_ID },
      version: local.image.tag,
    });
    const { runtime: _runtime, ...rest } = local;
    expect(kindEnvironment(rest, settings).runtime.aws.accountId).toBe(EMULATOR_ACCOUNT_ID);
  });

  it('build environments that validate', () => {
    for (const env of [local, dev, prod]) expect(() => validateEnvironment(env)).not.toThrow();
  });
});

describe('a hand-written environment whose runtime disagrees', () => {
  it('is rejected naming every field that differs', () => {
    const env: EksEnvironment = {
      ...prod,
      runtime: {
        ...prod.runtime,
        name: 'production',
        namespace: 'other',
        platform: 'kind',
        aws: { region: 'us-west-2', accountId: '000000000001' },
      },
    };
    const error = environmentError(env);
    expect(error).toBeInstanceOf(EnvironmentError);
    const fields = error!.problems.map((p) => p.split(':')[0]);
    expect(fields).toEqual([
      'runtime.name',
      'runtime.namespace',
      'runtime.platform',
      'runtime.aws.accountId',
      'runtime.aws.region',
    ]);
  });
});

describe('an environment targeting an unsupported Kubernetes version', () => {
  it('is rejected, naming the versions the charts are validated against', () => {
    const env = { ...prod, kubernetesVersion: '1.30' } as unknown as EksEnvironment;
    const error = environmentError(env);
    expect(error?.problems).toEqual([
      'kubernetesVersion: "1.30" is not a supported Kubernetes version. Fix: use one of 1.34, 1.35, 1.36 (the charts are validated against those)',
    ]);
  });
});
