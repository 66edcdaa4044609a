import { describe, expect, it } from '@jest/globals';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics';
import { DURATION_BUCKETS_S, HttpServerDurations } from '../src/telemetry/http-server-durations.js';

/** A reader collected by hand, like the SDK's own tests do. */
class ManualReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** Durations (seconds), methods, statuses and routes of the requests the tests record. */
const REQUESTS: [number, string, number, string | undefined][] = [
  [0.001, 'GET', 200, '/orders/:id'],
  // On a bucket boundary: the bucket whose upper bound it is.
  [0.005, 'GET', 200, '/orders/:id'],
  [0.0050001, 'GET', 200, '/orders/:id'],
  [0.3, 'GET', 200, '/orders/:id'],
  [12, 'GET', 200, '/orders/:id'],
  [0.02, 'POST', 201, '/orders'],
  [0.02, 'POST', 400, '/orders'],
  [0.7, 'POST', 503, '/orders'],
  [0.002, 'GET', 404, undefined],
  [0.004, 'GET', 499, '/orders/:id'],
];

/** The histogram points of the SDK's histogram and of the kit's producer, from one collection. */
async function collectBoth(reader: MetricReader) {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  // The SDK's histogram comes first (the SDK's producer), the kit's after it (a registered producer).
  const metrics = resourceMetrics.scopeMetrics
    .filter((s) => s.scope.name === '@flotilla/runtime')
    .map((s) => s.metrics.find((m) => m.descriptor.name === 'http.server.request.duration'))
    .filter((m): m is HistogramMetricData => m?.dataPointType === DataPointType.HISTOGRAM);
  for (const m of metrics)
    expect(m.descriptor).toMatchObject({ unit: 's', description: 'Duration of HTTP server requests' });
  return { sdk: metrics[0]?.dataPoints ?? [], kit: metrics[1]?.dataPoints ?? [] };
}

/** Points without their times, sorted by attributes, for comparing two sources. */
const comparable = (points: DataPoint<Histogram>[]) =>
  points
    .map((p) => ({ attributes: p.attributes, value: p.value }))
    .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));

/**
 * The kit's producer and an SDK histogram of the same name on one reader, and a function recording one
 * request into both with the attributes the semantic conventions give it.
 */
function sideBySide(temporality: AggregationTemporality) {
  const durations = new HttpServerDurations(() => temporality);
  const reader = new ManualReader({
    aggregationTemporalitySelector: () => temporality,
    metricProducers: [durations],
  });
  const provider = new MeterProvider({ readers: [reader] });
  const sdk = provider.getMeter('@flotilla/runtime').createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests',
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_S] },
  });
  const record = (seconds: number, method: string, status: number, route: string | undefined) => {
    durations.record(seconds, method, status, route);
    sdk.record(seconds, {
      'http.request.method': method,
      'http.response.status_code': status,
      ...(route === undefined ? {} : { 'http.route': route }),
      ...(status >= 500 ? { 'error.type': String(status) } : {}),
    });
  };
  return { reader, provider, record };
}

describe("the HTTP server's duration histogram", () => {
  it.each([
    ['cumulative', AggregationTemporality.CUMULATIVE],
    ['delta', AggregationTemporality.DELTA],
  ])('exports what the SDK histogram exports for the same requests (%s)', async (_name, temporality) => {
    const { reader, provider, record: recordBoth } = sideBySide(temporality);
    const record = (request: (typeof REQUESTS)[number]) => recordBoth(...request);
    REQUESTS.forEach(record);
    const { kit: kitFirst, sdk: sdkFirst } = await collectBoth(reader);
    // A second round of some requests, then a second collection: cumulative sums, delta only the new.
    REQUESTS.slice(0, 3).forEach(record);
    const { kit: kitSecond, sdk: sdkSecond } = await collectBoth(reader);
    await provider.shutdown();

    expect(kitFirst).toHaveLength(6);
    expect(comparable(kitFirst)).toEqual(comparable(sdkFirst));
    expect(comparable(kitSecond)).toEqual(comparable(sdkSecond));
    const orders = (points: DataPoint<Histogram>[]) =>
      points.find(
        (p) =>
          p.attributes['http.route'] === '/orders/:id' && p.attributes['http.response.status_code'] === 200,
      );
    expect(orders(kitFirst)?.value).toMatchObject({
      count: 5,
      min: 0.001,
      max: 12,
      buckets: { counts: [2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1] },
    });
    expect(orders(kitSecond)?.value.count).toBe(temporality === AggregationTemporality.DELTA ? 3 : 8);
    if (temporality === AggregationTemporality.DELTA) {
      // Only what was recorded since, from where the last collection ended.
      expect(kitSecond).toHaveLength(1);
      expect(kitSecond[0]?.startTime).toEqual(orders(kitFirst)?.endTime);
    } else expect(orders(kitSecond)?.startTime).toEqual(orders(kitFirst)?.startTime);
  });

  it('puts attribute sets beyond the cardinality limit into the overflow set, as the SDK does', async () => {
    const temporality = AggregationTemporality.CUMULATIVE;
    const { reader, provider, record: recordBoth } = sideBySide(temporality);
    const record = (route: string) => recordBoth(0.001, 'GET', 200, route);
    for (let i = 0; i < 2100; i++) record(`/route-${i}`);
    const first = await collectBoth(reader);
    expect(first.kit).toHaveLength(2000);
    expect(comparable(first.kit)).toEqual(comparable(first.sdk));
    const overflow = first.kit.filter((p) => p.attributes['otel.metric.overflow'] === true);
    expect(overflow.map((p) => p.value.count)).toEqual([101]);
    // A set seen before the limit still counts in its own point.
    record('/route-0');
    const second = await collectBoth(reader);
    expect(comparable(second.kit)).toEqual(comparable(second.sdk));
    expect(second.kit.find((p) => p.attributes['http.route'] === '/route-0')?.value.count).toBe(2);
    await provider.shutdown();
  });

  it('exports nothing before the first request', async () => {
    const durations = new HttpServerDurations(() => AggregationTemporality.CUMULATIVE);
    expect((await durations.collect()).resourceMetrics.scopeMetrics).toEqual([]);
  });
});
