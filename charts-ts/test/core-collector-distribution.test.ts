/**
 * The collector distribution agrees with the charts: the builder manifest holds exactly the components the
 * collector configurations use in some environment (no more, no fewer), every module is on the one
 * release, and the image the Deployments run is that release.
 */
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { shop } from '../../services/system.js';
import {
  builderManifest,
  COLLECTOR_COMPONENTS,
  COLLECTOR_RELEASE,
  COLLECTOR_REPLACES,
  componentsUsedBy,
  distributionModules,
  replaceDirective,
  replacesFor,
  type CollectorComponentKind,
} from '../src/constructs/collector-distribution.js';
import { collectorConfig } from '../src/constructs/otel-collector.js';
import { environments } from '../src/environments/index.js';
import { loadManifests } from './support/manifests.js';

const KINDS: readonly CollectorComponentKind[] = ['receivers', 'processors', 'exporters', 'extensions'];

interface Manifest {
  dist: { version: string };
  receivers: { gomod: string }[];
  processors: { gomod: string }[];
  exporters: { gomod: string }[];
  extensions: { gomod: string }[];
  providers: { gomod: string }[];
  replaces: string[];
}
const manifest = parse(builderManifest()) as Manifest;

/** The component types of one manifest section, through the modules the table names. */
function manifestTypes(kind: CollectorComponentKind): string[] {
  return manifest[kind]
    .map(({ gomod }) => {
      const module = gomod.split(' ')[0];
      const component = COLLECTOR_COMPONENTS.find((c) => c.module === module);
      if (!component) throw new Error(`builder manifest: ${module} is not in COLLECTOR_COMPONENTS`);
      expect(component.kind).toBe(kind);
      return component.type;
    })
    .sort();
}

describe('collector distribution', () => {
  it.each(KINDS)('builds exactly the %s the environments configure', (kind) => {
    const used = new Set(environments.flatMap((env) => componentsUsedBy(collectorConfig(shop, env))[kind]));
    expect(manifestTypes(kind)).toEqual([...used].sort());
  });

  it('counts a component named type/name as its type, and finds one the table lacks', () => {
    const used = componentsUsedBy({ exporters: { 'awsxray/secondary': {}, otlphttp: {} } });
    expect(used.exporters).toEqual(['awsxray', 'otlphttp']);
    expect(COLLECTOR_COMPONENTS.some((c) => c.type === 'otlphttp')).toBe(false);
  });

  it('pins every module to the one release: core and contrib, beta and stable lines', () => {
    const lines = {
      'go.opentelemetry.io/collector/': COLLECTOR_RELEASE.core,
      'github.com/open-telemetry/opentelemetry-collector-contrib/': COLLECTOR_RELEASE.contrib,
    };
    const gomods = [...KINDS.flatMap((k) => manifest[k]), ...manifest.providers].map((m) => m.gomod);
    expect(gomods.length).toBe(COLLECTOR_COMPONENTS.length + manifest.providers.length);
    for (const gomod of gomods) {
      const [module, version] = gomod.split(' ') as [string, string];
      const [, line] = Object.entries(lines).find(([prefix]) => module.startsWith(prefix))!;
      expect([line.beta, line.stable]).toContain(version);
    }
    expect(`v${manifest.dist.version}`).toBe(COLLECTOR_RELEASE.core.beta);
    expect(COLLECTOR_RELEASE.contrib.beta).toBe(COLLECTOR_RELEASE.core.beta);
  });

  it('replaces only modules the components compile in, never a component, provider or core module', () => {
    expect(manifest.replaces).toEqual(COLLECTOR_REPLACES.map(replaceDirective));
    const pinned = new Set(distributionModules().map((m) => m.module));
    const types = new Set(COLLECTOR_COMPONENTS.map((c) => c.type));
    for (const r of COLLECTOR_REPLACES) {
      expect([r.module, pinned.has(r.module)]).toEqual([r.module, false]);
      expect(r.compiledInto.length).toBeGreaterThan(0);
      for (const t of r.compiledInto) expect([r.module, types.has(t)]).toEqual([r.module, true]);
      expect(r.built).not.toBe(r.required);
      expect(r.reason).toContain(r.built);
    }
    expect(new Set(COLLECTOR_REPLACES.map((r) => r.module)).size).toBe(COLLECTOR_REPLACES.length);
  });

  it('leaves out the replacements of a component left out of a build', () => {
    const withoutAws = COLLECTOR_COMPONENTS.filter((c) => !['awsxray', 'awsemf'].includes(c.type));
    expect(replacesFor(withoutAws).map((r) => r.module)).toEqual(
      COLLECTOR_REPLACES.filter((r) => r.compiledInto.includes('resource_detection')).map((r) => r.module),
    );
    expect((parse(builderManifest(withoutAws)) as Manifest).replaces.join('\n')).not.toMatch(/internal\/aws/);
  });

  it('runs the upstream contrib image of that same release in every environment', () => {
    for (const [name, objects] of loadManifests(shop)) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'otel-collector');
      const image = (deployment?.spec as { template: { spec: { containers: { image: string }[] } } }).template
        .spec.containers[0]!.image;
      expect([name, image]).toEqual([
        name,
        `otel/opentelemetry-collector-contrib:${COLLECTOR_RELEASE.version}`,
      ]);
    }
  });
});
