/**
 * A real order through the shop (`startStack`, as `make dev` runs it) exporting to the built collector,
 * run on an emitted configuration with only loopback overrides (printed by each test):
 *
 * - `dist/prod`'s configuration with moto's server as X-Ray and CloudWatch Logs: the order's trace is read
 *   back from X-Ray (GetTraceSummaries, BatchGetTraces) as one trace across the services, and the EMF
 *   metrics land in the configured log group with the declared dimensions only;
 * - `dist/local`'s configuration with its debug exporter: the collector receives and passes on the spans
 *   of every service in the order's trace.
 *
 * The X-Ray round trip needs the awsxray and awsemf exporters in the build; where the module proxy does
 * not serve their modules it is skipped, by name (FLOTILLA_REQUIRE_FULL_COLLECTOR=1 makes that a failure).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { XRayClient } from '@aws-sdk/client-xray';
import { eventually, startMoto, type Moto } from '@flotilla/dev/testing';
import { messagingResources, type RuntimeEnvironment } from '@flotilla/model';
import { shop as shopSystem } from '../../services/system.js';
import { cachedCollectorBuild } from '../src/collector/build.js';
import {
  emfDimensionSets,
  readEmfLogGroup,
  readTrace,
  xrayTraceId,
  type SegmentDocument,
} from '../src/collector/aws-readers.js';
import { emittedCollectorConfigs } from '../src/collector/configs.js';
import { printedSpans } from '../src/collector/debug-output.js';
import type { RunningCollector } from '../src/collector/run.js';
import { orderThroughShop, startOnEmittedConfig } from '../src/collector/scenario.js';

const build = cachedCollectorBuild();
const distDir = fileURLToPath(new URL('../../dist/', import.meta.url));
const emitted = new Map(emittedCollectorConfigs(distDir).map((e) => [e.env, e]));
/** The services an order goes through: gateway -> orders -> inventory; orders -> SNS/SQS -> payments -> ... -> notifications. */
const ORDER_SERVICES = ['inventory', 'notifications', 'orders', 'payments'];

const awsExporters = ['exporters/awsxray', 'exporters/awsemf'];
const lacking = awsExporters.filter((id) => !build.components.includes(id));
const requireFull = process.env.FLOTILLA_REQUIRE_FULL_COLLECTOR === '1';
const describeRoundTrip = lacking.length === 0 || requireFull ? describe : describe.skip;
const roundTripTitle =
  lacking.length === 0
    ? 'dist/prod collector config -> moto X-Ray and CloudWatch Logs'
    : `dist/prod collector config -> moto X-Ray and CloudWatch Logs (SKIPPED: this build lacks ${lacking.join(', ')}; see build.json)`;

describeRoundTrip(roundTripTitle, () => {
  const { config: prodConfig } = emitted.get('prod')!;
  const awsemf = (prodConfig.exporters as Record<string, Record<string, unknown>>).awsemf!;
  let moto: Moto;
  let collector: RunningCollector;
  let otlpHttpUrl: string;
  let traceId: string;
  let environment: RuntimeEnvironment;
  const started = new Date(Date.now() - 60_000);

  beforeAll(async () => {
    if (lacking.length > 0)
      throw new Error(
        `FLOTILLA_REQUIRE_FULL_COLLECTOR=1, but the collector build lacks ${lacking.join(', ')}`,
      );
    moto = await startMoto({ region: String(awsemf.region) });
    ({ collector, otlpHttpUrl } = await startOnEmittedConfig({
      build,
      emitted: emitted.get('prod')!,
      awsEndpoint: moto.endpoint,
      env: {
        AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
        AWS_REGION: moto.region,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    }));
    ({ traceId, environment } = await orderThroughShop(otlpHttpUrl));
  }, 180_000);

  afterAll(async () => {
    await collector?.stop();
    await moto?.stop();
  }, 60_000);

  /**
   * The service a segment (not subsegment) stands for: X-Ray names a server span's segment after its
   * service (service.name), and a consumer span's after the span, `process <queue>`.
   */
  const serviceOf = (segment: SegmentDocument): string | undefined => {
    if (segment.type === 'subsegment') return undefined;
    const queues = messagingResources(shopSystem, environment).queues;
    return (
      shopSystem.services.find((s) => s.name === segment.name)?.name ??
      queues.find((q) => segment.name === `process ${q.name}`)?.service
    );
  };

  const clients = () => {
    const common = { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
    return { xray: new XRayClient(common), logs: new CloudWatchLogsClient(common) };
  };

  it('X-Ray holds the order as one trace across the services, with X-Ray ids', async () => {
    const id = xrayTraceId(traceId);
    const { listed, segments } = await eventually(
      `trace ${id} in X-Ray with a segment of every service`,
      async () => {
        const trace = await readTrace(clients().xray, id, {
          start: started,
          end: new Date(Date.now() + 60_000),
        });
        const services = new Set(trace.segments.map(serviceOf));
        return ORDER_SERVICES.every((s) => services.has(s)) ? trace : undefined;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- collector output ---\n${collector.output().slice(-6000)}`);
    });
    expect(listed).toBe(true);
    for (const s of segments) expect(s.trace_id ?? id).toBe(id);
    expect(segments.every((s) => /^[0-9a-f]{16}$/.test(s.id))).toBe(true);
    // One trace: every parent is a segment or subsegment of the trace, except the caller's span the
    // order's first segment continues (the test's own traceparent).
    const ids = new Set(segments.map((s) => s.id));
    const orphans = segments.filter(
      (s: SegmentDocument) => s.parent_id !== undefined && !ids.has(s.parent_id),
    );
    expect(orphans.map((s) => s.name)).toEqual(['orders']);
  });

  it('the collector accepts the emitted configuration as it is: no deprecated setting, no OTTL path it rewrites, no error', () => {
    const notices = collector
      .output()
      .split('\n')
      .filter((line) => /deprecated|please rewrite|\terror\t/i.test(line));
    expect(notices).toEqual([]);
  });

  it('the EMF metrics land in the configured log group, with the declared dimensions only', async () => {
    const group = String(awsemf.log_group_name);
    const { records, retentionInDays } = await eventually(
      `EMF records in ${group}`,
      async () => {
        const read = await readEmfLogGroup(clients().logs, group);
        return read.records.some((r) => r.record._aws !== undefined) ? read : undefined;
      },
      60_000,
    );
    const emf = records.filter((r) => r.record._aws !== undefined);
    for (const { record } of emf)
      for (const directive of record._aws!.CloudWatchMetrics ?? [])
        expect(directive.Namespace).toBe(awsemf.namespace);
    const sets = emfDimensionSets(emf);
    process.stdout.write(`EMF dimension sets in ${group}: ${JSON.stringify(sets)}\n`);
    const declarations = awsemf.metric_declarations as { dimensions: string[][] }[] | undefined;
    if (declarations !== undefined) {
      // Issue 12's bounded dimensions: exactly what the configuration declares, nothing per pod or host.
      const declared = new Set(
        declarations.flatMap((d) => d.dimensions.map((set) => [...set].sort().join(','))),
      );
      for (const set of sets) expect(declared).toContain(set.join(','));
    } else {
      // Today's configuration declares none: awsemf turns attributes into dimensions. At least every
      // dimension is a key of its record, as EMF requires.
      for (const { record } of emf)
        for (const directive of record._aws!.CloudWatchMetrics ?? [])
          for (const dims of directive.Dimensions)
            for (const d of dims) expect(Object.keys(record)).toContain(d);
    }
    if (awsemf.log_retention !== undefined) expect(retentionInDays).toBe(awsemf.log_retention);
    const stream = String(awsemf.log_stream_name);
    process.stdout.write(
      `EMF log streams for ${stream}: ${JSON.stringify([...new Set(records.map((r) => r.stream))])}\n`,
    );
    if (!stream.includes('{')) expect([...new Set(records.map((r) => r.stream))]).toEqual([stream]);
  });
});

describe('dist/local collector config -> debug exporter', () => {
  let collector: RunningCollector;
  let otlpHttpUrl: string;
  let traceId: string;

  beforeAll(async () => {
    ({ collector, otlpHttpUrl } = await startOnEmittedConfig({
      build,
      emitted: emitted.get('local')!,
      detailedDebug: true,
    }));
    ({ traceId } = await orderThroughShop(otlpHttpUrl));
  }, 180_000);

  afterAll(async () => {
    await collector?.stop();
  }, 60_000);

  it("passes on the order's spans from every service it went through, in one trace", async () => {
    const spans = await eventually(
      `spans of trace ${traceId} from ${ORDER_SERVICES.join(', ')} in the debug exporter's output`,
      async () => {
        const ofTrace = printedSpans(collector.output()).filter((s) => s.traceId === traceId);
        const services = new Set(ofTrace.map((s) => s.service));
        return ORDER_SERVICES.every((s) => services.has(s)) ? ofTrace : undefined;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- collector output ---\n${collector.output().slice(-6000)}`);
    });
    expect(collector.output()).not.toMatch(/deprecated/i); // the emitted config uses no deprecated name
    const server = spans.find((s) => s.service === 'orders' && s.kind.includes('Server'));
    expect(server?.name).toBe('POST /api/orders');
    const ids = new Set(spans.map((s) => s.spanId));
    const orphans = spans.filter((s) => s.parentId !== '' && !ids.has(s.parentId));
    expect(orphans.map((s) => `${s.service} ${s.name}`)).toEqual(['orders POST /api/orders']);
  });
});

// Where the build lacks awsemf, dist/prod's metrics pipeline still runs up to its exporter: the metrics of
// the order get the bounded status class the EMF dimensions are declared on.
const describeProdMetrics = build.components.includes('exporters/awsemf') ? describe.skip : describe;
describeProdMetrics('dist/prod collector config, less awsemf -> debug exporter', () => {
  let collector: RunningCollector;

  beforeAll(async () => {
    let otlpHttpUrl: string;
    ({ collector, otlpHttpUrl } = await startOnEmittedConfig({
      build,
      emitted: emitted.get('prod')!,
      detailedDebug: true,
    }));
    await orderThroughShop(otlpHttpUrl);
  }, 180_000);

  afterAll(async () => {
    await collector?.stop();
  }, 60_000);

  it('the request duration metric carries http.response.status_class, not only the status code', async () => {
    await eventually(
      "http.server.request.duration with a status class in the debug exporter's output",
      async () => {
        const out = collector.output();
        return /Name: http\.server\.request\.duration/.test(out) &&
          /-> http\.response\.status_class: Str\(2xx\)/.test(out)
          ? true
          : undefined;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- collector output ---\n${collector.output().slice(-6000)}`);
    });
    expect(collector.output()).not.toMatch(/-> http\.response\.status_class: Str\((?![2-5]xx\))/);
  });
});
