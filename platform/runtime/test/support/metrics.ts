/** A real OpenTelemetry meter whose metrics a test reads on demand (no exporter, no timer). */
import type { Meter } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface TestMeter {
  readonly meter: Meter;
  /** The sum of the data points of metric `name` (the last value for a gauge), or undefined when it has none. */
  value(name: string): Promise<number | undefined>;
}

export function testMeter(): TestMeter {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter('test'),
    async value(name) {
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === name);
      if (!metric || metric.dataPoints.length === 0) return undefined;
      return metric.dataPoints.reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : 0), 0);
    },
  };
}
