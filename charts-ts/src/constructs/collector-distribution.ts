/**
 * The OpenTelemetry Collector distribution of the platform: one collector release, and exactly the
 * components the collector configurations of the charts use. This is the one place the collector's version
 * is written: the charts' image tag and the OpenTelemetry Collector Builder (OCB) manifest that
 * `make collector-check` builds a collector from are both derived from it, and a test keeps the component
 * list equal to what `collectorConfig` uses in every environment.
 * @see https://opentelemetry.io/docs/collector/custom-collector/
 */
import { stringify } from 'yaml';

/**
 * One collector release, as its modules name it. Core (go.opentelemetry.io/collector) and contrib
 * (github.com/open-telemetry/opentelemetry-collector-contrib) are released together: each release has a
 * `0.x` version for the modules not yet stable and a `1.x` version for the stable ones (core's
 * `component`, `pdata`, `confmap`..., and since contrib 0.161.0 the k8sattributes processor). A component
 * names which line it belongs to, never a version of its own.
 *
 * Why 0.161.0, not the newest (0.165.x): it is the newest release whose awsxray and awsemf exporter
 * modules the Go module proxy reachable from these machines serves; every module below declares
 * core v0.161.0 / v1.67.0 in its go.mod, which the collector build checks. Some modules those components
 * compile in are refused at the versions the release requires: {@link COLLECTOR_REPLACES} takes each at
 * the nearest version the proxy serves.
 * @see https://github.com/open-telemetry/opentelemetry-collector/blob/main/docs/release.md
 */
export const COLLECTOR_RELEASE = {
  /** The release: the contrib distribution's image tag and the builder's version. */
  version: '0.161.0',
  core: { beta: 'v0.161.0', stable: 'v1.67.0' },
  contrib: { beta: 'v0.161.0', stable: 'v1.0.0' },
} as const;

/** The kinds of collector components, as the configuration's top-level sections name them. */
export type CollectorComponentKind = 'receivers' | 'processors' | 'exporters' | 'extensions';

/** A component of the distribution. */
export interface CollectorComponent {
  /** Its section in the configuration. */
  readonly kind: CollectorComponentKind;
  /** Its type, the name the configuration uses (`otlp`, `awsxray`...). */
  readonly type: string;
  /** Its Go module. */
  readonly module: string;
  /** Which release line it is on (its repository) and whether its module is already 1.x. */
  readonly line: 'core' | 'contrib';
  readonly stability: 'beta' | 'stable';
}

const CORE = 'go.opentelemetry.io/collector';
const CONTRIB = 'github.com/open-telemetry/opentelemetry-collector-contrib';

/** Exactly the components the charts' collector configurations use (a test keeps it so). */
export const COLLECTOR_COMPONENTS: readonly CollectorComponent[] = [
  {
    kind: 'receivers',
    type: 'otlp',
    module: `${CORE}/receiver/otlpreceiver`,
    line: 'core',
    stability: 'beta',
  },
  {
    kind: 'processors',
    type: 'memory_limiter',
    module: `${CORE}/processor/memorylimiterprocessor`,
    line: 'core',
    stability: 'beta',
  },
  {
    kind: 'processors',
    type: 'batch',
    module: `${CORE}/processor/batchprocessor`,
    line: 'core',
    stability: 'beta',
  },
  {
    kind: 'processors',
    type: 'k8s_attributes',
    module: `${CONTRIB}/processor/k8sattributesprocessor`,
    line: 'contrib',
    stability: 'stable',
  },
  {
    kind: 'processors',
    type: 'resource_detection',
    module: `${CONTRIB}/processor/resourcedetectionprocessor`,
    line: 'contrib',
    stability: 'beta',
  },
  {
    kind: 'processors',
    type: 'transform',
    module: `${CONTRIB}/processor/transformprocessor`,
    line: 'contrib',
    stability: 'beta',
  },
  {
    kind: 'exporters',
    type: 'awsxray',
    module: `${CONTRIB}/exporter/awsxrayexporter`,
    line: 'contrib',
    stability: 'beta',
  },
  {
    kind: 'exporters',
    type: 'awsemf',
    module: `${CONTRIB}/exporter/awsemfexporter`,
    line: 'contrib',
    stability: 'beta',
  },
  {
    kind: 'exporters',
    type: 'debug',
    module: `${CORE}/exporter/debugexporter`,
    line: 'core',
    stability: 'beta',
  },
  {
    kind: 'extensions',
    type: 'health_check',
    module: `${CONTRIB}/extension/healthcheckextension`,
    line: 'contrib',
    stability: 'beta',
  },
];

/**
 * A module the components compile in, built at another version than the release requires: the Go module
 * proxy these machines reach refuses the required version (`403 Forbidden: This module version is not
 * available.`). It becomes a `replace` of the builder manifest and of the build's go.mod. The collector
 * build fails when a replacement no longer applies (the release no longer requires `required`), and says
 * so when the proxy serves `required` again (the replacement can then go).
 * @see https://go.dev/ref/mod#go-mod-file-replace
 */
export interface ModuleReplacement {
  /** The Go module. */
  readonly module: string;
  /** The version the release's modules require (what the build selects without the replacement). */
  readonly required: string;
  /** The version built instead: the nearest one the proxy serves. */
  readonly built: string;
  /** The components that compile it in, by type. */
  readonly compiledInto: readonly string[];
  /** Why this version, and what else was tried. */
  readonly reason: string;
}

/**
 * The release's internal AWS helper modules of contrib (one go.mod each, versioned with the release) and
 * OpenTelemetry-Go contrib's cloud detectors that the resource_detection processor links (only `env`, `eks`
 * and `ec2` run in the charts), and the X-Ray SDK client. Each version was asked of the proxy by exact
 * version (its version lists name none of these): the refused ones are named in the reason.
 * `make collector-check` compiles the v0.161.0 components against them and runs the awsxray and awsemf
 * exporters against moto.
 */
export const COLLECTOR_REPLACES: readonly ModuleReplacement[] = [
  {
    module: `${CONTRIB}/internal/aws/xray`,
    required: 'v0.161.0',
    built: 'v0.159.0',
    compiledInto: ['awsxray'],
    reason:
      'v0.161.0, v0.158.0 and v0.162.0 to v0.165.0 refused, v0.160.0 not found: v0.159.0 is the nearest served',
  },
  {
    module: `${CONTRIB}/internal/aws/awsutil`,
    required: 'v0.161.0',
    built: 'v0.159.0',
    compiledInto: ['awsxray', 'awsemf'],
    reason:
      'v0.161.0, v0.158.0 and v0.162.0 to v0.165.1 refused, v0.160.0 not found: v0.159.0 is the nearest served',
  },
  ...['cwlogs', 'metrics'].map((name) => ({
    module: `${CONTRIB}/internal/aws/${name}`,
    required: 'v0.161.0',
    built: 'v0.157.0',
    compiledInto: ['awsemf'],
    reason:
      'v0.161.0, v0.159.0, v0.158.0 and v0.162.0 to v0.165.1 refused, v0.160.0 not found: v0.157.0 is the nearest served',
  })),
  {
    module: 'github.com/aws/aws-sdk-go-v2/service/xray',
    required: 'v1.44.0',
    built: 'v1.45.0',
    compiledInto: ['awsxray'],
    reason:
      'v1.44.0 to v1.44.6 refused: v1.45.0 is the next minor, backward compatible (semantic versioning)',
  },
  ...[
    'aws/elasticbeanstalk',
    'azure/azureappservice',
    'azure/azurecontainerapps',
    'hetzner',
    'ibmcloud/vpc',
    'vultr',
  ].map((name) => ({
    module: `go.opentelemetry.io/contrib/detectors/${name}`,
    required: 'v0.18.0',
    built: 'v0.17.0',
    compiledInto: ['resource_detection'],
    reason: 'v0.18.0 and v0.19.0 refused: v0.17.0 is the previous release (a detector the charts do not run)',
  })),
];

/** `module required => module built`, as a go.mod `replace` directive and OCB's `replaces` take it. */
export function replaceDirective(r: ModuleReplacement): string {
  return `${r.module} ${r.required} => ${r.module} ${r.built}`;
}

/** The configuration sources the collector reads (`--config=file:...`, `${env:...}`, `yaml:...`). */
const CONFMAP_PROVIDERS = ['envprovider', 'fileprovider', 'yamlprovider'].map(
  (name) => `${CORE}/confmap/provider/${name}`,
);

/** The module version of a component on {@link COLLECTOR_RELEASE}. */
export function componentVersion(component: Pick<CollectorComponent, 'line' | 'stability'>): string {
  return COLLECTOR_RELEASE[component.line][component.stability];
}

/** `module version`, as OCB's `gomod` fields and `go get` take them. */
export function componentGoMod(component: CollectorComponent): string {
  return `${component.module} ${componentVersion(component)}`;
}

/**
 * The collector image of the charts: the upstream contrib distribution of exactly the release the
 * builder builds (it carries every component above, and more).
 * @see https://hub.docker.com/r/otel/opentelemetry-collector-contrib
 */
export const COLLECTOR_IMAGE = `otel/opentelemetry-collector-contrib:${COLLECTOR_RELEASE.version}`;

/** Name of the binary the builder writes. */
export const COLLECTOR_BINARY = 'otelcol-flotilla';

/** Every module version the distribution pins: components, configuration providers, and the collector core (`otelcol`; `service` carries its own telemetry, OCB's default). */
export function distributionModules(
  components: readonly CollectorComponent[] = COLLECTOR_COMPONENTS,
): { module: string; version: string }[] {
  return [
    ...components.map((c) => ({ module: c.module, version: componentVersion(c) })),
    ...CONFMAP_PROVIDERS.map((module) => ({ module, version: COLLECTOR_RELEASE.core.stable })),
    { module: `${CORE}/otelcol`, version: COLLECTOR_RELEASE.core.beta },
    { module: `${CORE}/service`, version: COLLECTOR_RELEASE.core.beta },
  ];
}

/**
 * The OpenTelemetry Collector Builder manifest of the distribution (YAML), for `builder --config`.
 * @param components - the components to build. @default COLLECTOR_COMPONENTS
 * @param outputPath - where the builder writes the sources and the binary. @default './otelcol-flotilla'
 * @param replaces - the replacements of modules the components compile in. @default COLLECTOR_REPLACES
 * @see https://github.com/open-telemetry/opentelemetry-collector/tree/main/cmd/builder
 */
export function builderManifest(
  components: readonly CollectorComponent[] = COLLECTOR_COMPONENTS,
  outputPath = `./${COLLECTOR_BINARY}`,
  replaces: readonly ModuleReplacement[] = replacesFor(components),
): string {
  const section = (kind: CollectorComponentKind) =>
    components.filter((c) => c.kind === kind).map((c) => ({ gomod: componentGoMod(c) }));
  const manifest = {
    dist: {
      name: COLLECTOR_BINARY,
      module: `flotilla.dev/${COLLECTOR_BINARY}`,
      description: "Flotilla's OpenTelemetry Collector: the components its charts configure",
      version: COLLECTOR_RELEASE.version,
      output_path: outputPath,
    },
    receivers: section('receivers'),
    processors: section('processors'),
    exporters: section('exporters'),
    extensions: section('extensions'),
    providers: CONFMAP_PROVIDERS.map((module) => ({ gomod: `${module} ${COLLECTOR_RELEASE.core.stable}` })),
    replaces: replaces.map(replaceDirective),
  };
  return stringify(manifest, { lineWidth: 0 });
}

/** The replacements that apply to a build of `components`: those of a module one of them compiles in. */
export function replacesFor(components: readonly CollectorComponent[]): ModuleReplacement[] {
  const types = new Set(components.map((c) => c.type));
  return COLLECTOR_REPLACES.filter((r) => r.compiledInto.some((t) => types.has(t)));
}

/** The component types a collector configuration uses, per kind: its sections' keys (`type` or `type/name`). */
export function componentsUsedBy(config: Record<string, unknown>): Record<CollectorComponentKind, string[]> {
  const typesOf = (kind: CollectorComponentKind): string[] => {
    const section = config[kind];
    if (section === undefined || section === null) return [];
    if (typeof section !== 'object')
      throw new Error(`collector config: "${kind}" must be a map of components`);
    return [...new Set(Object.keys(section).map((id) => id.split('/')[0]!))].sort();
  };
  return {
    receivers: typesOf('receivers'),
    processors: typesOf('processors'),
    exporters: typesOf('exporters'),
    extensions: typesOf('extensions'),
  };
}
