/**
 * The pure parts of the collector check, on real inputs: the go command's report of modules it could not
 * download (as `go mod tidy -e` printed it on these machines), the emitted configurations in `dist/`, how a
 * configuration is cut down to the components a build has, and the debug exporter's detailed output.
 */
import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { COLLECTOR_COMPONENTS, COLLECTOR_REPLACES } from '@flotilla/charts';
import {
  componentId,
  parseModuleGraph,
  releaseProblems,
  replacementProblems,
} from '../src/collector/build.js';
import { emittedCollectorConfigs, outsideCluster, restrictTo } from '../src/collector/configs.js';
import { printedSpans } from '../src/collector/debug-output.js';
import { missingByComponent, missingModules } from '../src/collector/go-errors.js';
import { loopbackOverrides } from '../src/collector/loopback.js';

const C = 'github.com/open-telemetry/opentelemetry-collector-contrib';
const TIDY_OUTPUT = `go: downloading go.opentelemetry.io/collector v0.161.0
go: flotilla.dev/otelcol-flotilla imports
\t${C}/processor/k8sattributesprocessor tested by
\t${C}/processor/k8sattributesprocessor.test imports
\t${C}/pkg/semconvtest: ${C}/pkg/semconvtest@v0.161.0: reading https://proxy.golang.org/${C}/pkg/semconvtest/@v/v0.161.0.zip: 403 Forbidden
\tserver response: This module version is not available.
go: flotilla.dev/otelcol-flotilla imports
\t${C}/exporter/awsxrayexporter imports
\t${C}/internal/aws/xray: ${C}/internal/aws/xray@v0.161.0: reading https://proxy.golang.org/${C}/internal/aws/xray/@v/v0.161.0.zip: 403 Forbidden
\tserver response: This module version is not available.
go: flotilla.dev/otelcol-flotilla imports
\t${C}/exporter/awsxrayexporter imports
\t${C}/internal/aws/xray/telemetry: ${C}/internal/aws/xray@v0.161.0: reading https://proxy.golang.org/${C}/internal/aws/xray/@v/v0.161.0.zip: 403 Forbidden
\tserver response: This module version is not available.
go: flotilla.dev/otelcol-flotilla imports
\t${C}/processor/resourcedetectionprocessor imports
\t${C}/processor/resourcedetectionprocessor/internal/vultr imports
\tgo.opentelemetry.io/contrib/detectors/vultr: go.opentelemetry.io/contrib/detectors/vultr@v0.18.0: reading https://proxy.golang.org/go.opentelemetry.io/contrib/detectors/vultr/@v/v0.18.0.zip: 403 Forbidden
\tserver response: This module version is not available.
go: flotilla.dev/otelcol-flotilla imports
\tgo.opentelemetry.io/collector/otelcol: go.opentelemetry.io/collector/otelcol@v0.161.0: reading https://proxy.golang.org/go.opentelemetry.io/collector/otelcol/@v/v0.161.0.zip: 410 Gone
`;

describe("the go command's missing modules", () => {
  const missing = missingModules(TIDY_OUTPUT);

  it('reads each one with its reason, and ignores what only a test imports', () => {
    expect(missing.map((m) => [m.module, m.reason])).toEqual([
      [`${C}/internal/aws/xray@v0.161.0`, '403 Forbidden: This module version is not available.'],
      [`${C}/internal/aws/xray@v0.161.0`, '403 Forbidden: This module version is not available.'],
      [
        'go.opentelemetry.io/contrib/detectors/vultr@v0.18.0',
        '403 Forbidden: This module version is not available.',
      ],
      ['go.opentelemetry.io/collector/otelcol@v0.161.0', '410 Gone'],
    ]);
  });

  it('names the component each one is compiled into, once per module; the rest is the core', () => {
    const { byModule, unattributed } = missingByComponent(
      missing,
      COLLECTOR_COMPONENTS.map((c) => c.module),
    );
    expect([...byModule].map(([mod, ms]) => [mod, ms.map((m) => m.module)])).toEqual([
      [`${C}/exporter/awsxrayexporter`, [`${C}/internal/aws/xray@v0.161.0`]],
      [`${C}/processor/resourcedetectionprocessor`, ['go.opentelemetry.io/contrib/detectors/vultr@v0.18.0']],
    ]);
    expect(unattributed.map((m) => m.module)).toEqual(['go.opentelemetry.io/collector/otelcol@v0.161.0']);
  });

  it('finds nothing in a clean run', () => {
    expect(missingModules('go: downloading go.opentelemetry.io/collector v0.161.0\n')).toEqual([]);
  });
});

describe('the emitted collector configurations', () => {
  const emitted = emittedCollectorConfigs(fileURLToPath(new URL('../../dist/', import.meta.url)));
  const prod = emitted.find((e) => e.env === 'prod')!;
  const all = COLLECTOR_COMPONENTS.map(componentId);

  it('are read from every environment of dist/', () => {
    expect(emitted.map((e) => [e.env, e.file])).toEqual([
      ['dev', 'dev/10-platform.k8s.yaml'],
      ['local', 'local/10-platform.k8s.yaml'],
      ['prod', 'prod/10-platform.k8s.yaml'],
    ]);
  });

  it('stay as they are for a build with every component', () => {
    expect(restrictTo(prod.config, all)).toEqual({ config: prod.config, changes: [] });
  });

  it('lose only what a build lacks, and a pipeline left without exporter exports to debug', () => {
    const without = all.filter((id) => !['exporters/awsxray', 'processors/resource_detection'].includes(id));
    const { config, changes } = restrictTo(prod.config, without);
    expect(changes).toEqual([
      'left out processors.resource_detection (not in this build)',
      'left out exporters.awsxray (not in this build)',
      'pipeline traces exports to debug instead',
    ]);
    const service = config.service as {
      pipelines: Record<string, { processors: string[]; exporters: string[] }>;
    };
    expect(service.pipelines.traces).toMatchObject({
      processors: ['memory_limiter', 'k8s_attributes', 'batch'],
      exporters: ['debug'],
    });
    expect(service.pipelines.metrics?.exporters).toEqual(['awsemf']);
    expect(prod.config.processors).toHaveProperty('resource_detection'); // the original is untouched
  });

  it('lose only the eks detector outside a Kubernetes pod, and say so', () => {
    const { config, changes } = outsideCluster(prod.config);
    expect(changes).toEqual([
      'left out processors.resource_detection.detectors eks (created only inside a Kubernetes pod)',
    ]);
    const detectors = (c: Record<string, unknown>) =>
      (c.processors as Record<string, { detectors: string[] }>).resource_detection!.detectors;
    expect(detectors(config)).toEqual(['env', 'ec2']);
    expect(detectors(prod.config)).toEqual(['env', 'eks', 'ec2']); // the original is untouched
    const local = emitted.find((e) => e.env === 'local')!;
    expect(outsideCluster(local.config)).toEqual({ config: local.config, changes: [] });
  });

  it('are pointed at loopback by overrides of the components they have only', async () => {
    const overrides = await loopbackOverrides({ base: prod.config, awsEndpoint: 'http://127.0.0.1:1' });
    const paths = overrides.described.map((d) => d.split(':')[0]);
    expect(paths).toEqual([
      'receivers.otlp.protocols.grpc.endpoint',
      'receivers.otlp.protocols.http.endpoint',
      'extensions.health_check.endpoint',
      'processors.k8s_attributes.passthrough',
      'processors.resource_detection.detectors',
      'service.telemetry.metrics.level',
      'exporters.awsxray.endpoint',
      'exporters.awsxray.local_mode',
      'exporters.awsemf.endpoint',
      'exporters.awsemf.local_mode',
    ]);
    const local = emitted.find((e) => e.env === 'local')!;
    const { config } = restrictTo(
      local.config,
      all.filter((id) => id !== 'processors/resource_detection'),
    );
    const localOverrides = await loopbackOverrides({ base: config, awsEndpoint: 'http://127.0.0.1:1' });
    expect(localOverrides.config.processors).toEqual({ k8s_attributes: { passthrough: true } });
    expect(localOverrides.config.exporters).toEqual({});
  });
});

describe("the debug exporter's detailed output", () => {
  const output = `2026-12-02T14:50:01.000Z	info	Traces	{"resource spans": 2, "spans": 3}
ResourceSpans #0
Resource SchemaURL:
Resource attributes:
     -> service.name: Str(orders)
     -> deployment.environment.name: Str(local)
ScopeSpans #0
InstrumentationScope @flotilla/runtime
Span #0
    Trace ID       : 692efa1c0123456789abcdef01234567
    Parent ID      : 1111111111111111
    ID             : 2222222222222222
    Name           : POST /api/orders
    Kind           : Server
Attributes:
     -> service.name: Str(not-a-resource)
Span #1
    Trace ID       : 692efa1c0123456789abcdef01234567
    Parent ID      : 2222222222222222
    ID             : 3333333333333333
    Name           : GET
    Kind           : Client
ResourceSpans #1
Resource attributes:
     -> service.name: Str(inventory)
ScopeSpans #0
Span #0
    Trace ID       : 692efa1c0123456789abcdef01234567
    Parent ID      : 3333333333333333
    ID             : 4444444444444444
    Name           : POST /api/reservations
    Kind           : Server
`;

  it('reads every span with the service of its resource', () => {
    expect(printedSpans(output).map((s) => [s.service, s.name, s.kind, s.parentId])).toEqual([
      ['orders', 'POST /api/orders', 'Server', '1111111111111111'],
      ['orders', 'GET', 'Client', '2222222222222222'],
      ['inventory', 'POST /api/reservations', 'Server', '3333333333333333'],
    ]);
  });
});

describe("the build's module graph", () => {
  const xray = COLLECTOR_REPLACES.find((r) => r.module === `${C}/internal/aws/xray`)!;
  // As `go list -m -f '{{.Path}} {{.Version}}{{with .Replace}} {{.Version}}{{end}}' all` printed it here.
  const LISTED = `flotilla.dev/otelcol-flotilla
github.com/aws/aws-sdk-go-v2 v1.47.0
${C}/exporter/awsxrayexporter v0.161.0
${C}/internal/aws/xray v0.161.0 v0.159.0
${C}/processor/k8sattributesprocessor v1.0.0
go.opentelemetry.io/collector/otelcol v0.161.0
go.opentelemetry.io/collector/pdata v1.67.0
`;
  const graph = parseModuleGraph(LISTED);
  const awsxray = COLLECTOR_COMPONENTS.filter((c) => c.type === 'awsxray');

  it('reads each module with its required and built version', () => {
    expect(graph.find((m) => m.path === `${C}/internal/aws/xray`)).toEqual({
      path: `${C}/internal/aws/xray`,
      version: 'v0.161.0',
      replacedBy: 'v0.159.0',
    });
    expect(graph.find((m) => m.path === 'github.com/aws/aws-sdk-go-v2')).toEqual({
      path: 'github.com/aws/aws-sdk-go-v2',
      version: 'v1.47.0',
    });
    expect(graph.some((m) => m.path === 'flotilla.dev/otelcol-flotilla')).toBe(false);
  });

  it('is on one release where a replaced module is required at the release', () => {
    expect(releaseProblems(graph, awsxray)).toEqual([]);
    expect(replacementProblems(graph, [xray])).toEqual([]);
  });

  it('names a collector module off the release', () => {
    const off = parseModuleGraph(`${LISTED}go.opentelemetry.io/collector/component v1.70.0\n`);
    expect(releaseProblems(off, awsxray)).toContain(
      'go.opentelemetry.io/collector/component v1.70.0 is not on release v0.161.0 / v1.67.0',
    );
  });

  it('names a replacement that no longer applies, and one not declared', () => {
    const moved = parseModuleGraph(
      LISTED.replace(`${C}/internal/aws/xray v0.161.0 v0.159.0`, `${C}/internal/aws/xray v0.162.0`),
    );
    expect(replacementProblems(moved, [xray])).toEqual([
      `COLLECTOR_REPLACES: ${C}/internal/aws/xray v0.161.0 => ${C}/internal/aws/xray v0.159.0 does not apply: the build requires ${C}/internal/aws/xray v0.162.0; update or remove it (charts-ts/src/constructs/collector-distribution.ts)`,
    ]);
    expect(replacementProblems(graph, [])).toEqual([
      `${C}/internal/aws/xray v0.161.0 => v0.159.0 is replaced, but not in COLLECTOR_REPLACES`,
    ]);
  });
});
