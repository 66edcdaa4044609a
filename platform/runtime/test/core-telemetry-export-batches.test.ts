/**
 * How the kit's SDK hands sampled spans to the exporter. The batch span processor exports as soon as a
 * batch is full, from inside the `span.end()` that filled it, and the exporter serializes the whole batch
 * there, on the event loop: every request waits behind it. So a service's default batch is small (64 spans,
 * not the specification's 512; see `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` in config/schema.ts).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startTracedService, type TracedService } from './support/traced-service.js';

let traced: TracedService;

beforeAll(async () => {
  traced = await startTracedService('service.ts', {
    OTEL_TRACES_SAMPLER: 'always_on',
    // No export on the timer within the test: every export here is a full batch.
    OTEL_BSP_SCHEDULE_DELAY: '600000',
  });
});

afterAll(async () => {
  await traced?.stop();
});

it('exports sampled spans in batches of 64 by default, each as soon as it is full', async () => {
  const requests = 150;
  for (let sent = 0; sent < requests; sent += 10)
    await Promise.all(
      Array.from({ length: Math.min(10, requests - sent) }, async (_, i) => {
        const res = await fetch(`${traced.svc.url}/items/${sent + i}`);
        await res.arrayBuffer();
      }),
    );
  // Two full batches (128 of the 150 server spans) go out without waiting for the 10-minute timer.
  await traced.receiver.waitForSpans((spans) => spans.length >= 128, 10_000);
  expect(traced.receiver.spansPerExport.slice(0, 2)).toEqual([64, 64]);
  expect(Math.max(...traced.receiver.spansPerExport)).toBeLessThanOrEqual(64);
});
