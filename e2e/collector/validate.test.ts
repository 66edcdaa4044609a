/**
 * The built collector loads every collector configuration the charts emit: `validate` on each
 * environment's ConfigMap as it is in `dist/<env>/`. Components the build lacks (their modules are not
 * served here: see build.json) and the resource detectors that can only be created inside a Kubernetes pod
 * (`eks`) are left out of the configuration first, and the test's name says so.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { COLLECTOR_COMPONENTS } from '@flotilla/charts';
import { cachedCollectorBuild, componentId } from '../src/collector/build.js';
import { emittedCollectorConfigs, outsideCluster, restrictTo } from '../src/collector/configs.js';
import { runCollectorCommand } from '../src/collector/run.js';

const build = cachedCollectorBuild();
const distDir = fileURLToPath(new URL('../../dist/', import.meta.url));
const emitted = emittedCollectorConfigs(distDir);

async function validate(config: Record<string, unknown>): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'otelcol-validate-'));
  try {
    const file = join(dir, 'config.yaml');
    await writeFile(file, stringify(config));
    return await runCollectorCommand(build.binary, ['validate', `--config=file:${file}`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the collector build', () => {
  it('holds exactly the components build.json lists, and those are the distribution less what was not served', async () => {
    const { code, output } = await runCollectorCommand(build.binary, ['components']);
    expect(code).toBe(0);
    const listed = parse(output) as Record<string, { name: string }[] | undefined>;
    const ids = (['receivers', 'processors', 'exporters', 'extensions'] as const).flatMap((kind) =>
      (listed[kind] ?? []).map((c) => `${kind}/${c.name}`),
    );
    expect(ids.sort()).toEqual([...build.components].sort());
    const unavailable = build.unavailable.map(componentId);
    expect([...build.components, ...unavailable].sort()).toEqual(
      COLLECTOR_COMPONENTS.map(componentId).sort(),
    );
  });

  it('validate fails on a configuration error and names the field', async () => {
    const { config } = restrictTo(emitted[0]!.config, build.components);
    const broken = structuredClone(config) as { processors: Record<string, Record<string, unknown>> };
    broken.processors.batch = { ...broken.processors.batch, send_batch_sise: 512 };
    const { code, output } = await validate(broken);
    expect(code).not.toBe(0);
    expect(output).toContain('send_batch_sise');
  });
});

describe.each(emitted.map((e) => [e.env, e] as const))(
  'dist/%s collector config',
  (_env, { file, config }) => {
    const restricted = restrictTo(config, build.components);
    const { config: loadable, changes: outside } = outsideCluster(restricted.config);
    const changes = [...restricted.changes, ...outside];
    const title =
      changes.length === 0
        ? `passes the collector's validate (${file})`
        : `passes the collector's validate (${file}), less: ${changes.join('; ')}`;
    it(title, async () => {
      const { code, output } = await validate(loadable);
      expect(code === 0 ? 'valid' : output).toBe('valid'); // on failure, the collector's own words
    });
  },
);
