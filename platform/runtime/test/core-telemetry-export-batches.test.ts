/**
 * How the kit's SDK hands sampled spans to the exporter. The batch span processor exports as soon as a
 * batch is full, from inside the `span.end()` that filled it, and the exporter serializes the whole batch
 * there, on the event loop: every request waits behind it. So a service's default batch is small (64 spans,
 * not the specification's 512; see `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` in config/schema.ts).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { baseEnv, startChildService, type ChildService } from './support/child-service.js';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';

let receiver: OtlpReceiver;
let svc: ChildService & { url: string };

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  svc = await startChildService(
    'service.ts',
    baseEnv({
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_SAMPLER: 'always_on',
      // No export on the timer within the test: every export here is a full batch.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    }),
    { preload: true },
  );
});

afterAll(async () => {
  await svc?.kill();
  await receiver?.close();
});

it('exports sampled spans in batches of 64 by default, each as soon as it is full', async () => {
  const requests = 150;
  for (let sent = 0; sent < requests; sent += 10)
    await Promise.all(
      Array.from({ length: Math.min(10, requests - sent) }, async (_, i) => {
        const res = await fetch(`${svc.url}/items/${sent + i}`);
        await res.arrayBuffer();
      }),
    );
  // Two full batches (128 of the 150 server spans) go out without waiting for the 10-minute timer.
  await receiver.waitForSpans((spans) => spans.length >= 128, 10_000);
  expect(receiver.spansPerExport.slice(0, 2)).toEqual([64, 64]);
  expect(Math.max(...receiver.spansPerExport)).toBeLessThanOrEqual(64);
});
