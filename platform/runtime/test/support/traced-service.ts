/**
 * A fixture service with the kit's OpenTelemetry SDK on (preloaded, as an image runs it) exporting OTLP/JSON
 * to a receiver of its own, for tests of what the SDK sends.
 */
import { baseEnv, startChildService, type ChildService } from './child-service.js';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.js';

export interface TracedService {
  readonly receiver: OtlpReceiver;
  readonly svc: ChildService & { url: string };
  /** Kills the service, then closes the receiver. */
  stop(): Promise<void>;
}

/** Starts `fixture` with {@link baseEnv}, the SDK exporting to a new receiver, and `env` on top. */
export async function startTracedService(
  fixture: string,
  env: Record<string, string>,
): Promise<TracedService> {
  const receiver = await startOtlpReceiver();
  try {
    const svc = await startChildService(
      fixture,
      baseEnv({
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        ...env,
      }),
      { preload: true },
    );
    return {
      receiver,
      svc,
      async stop() {
        await svc.kill();
        await receiver.close();
      },
    };
  } catch (err) {
    await receiver.close();
    throw err;
  }
}
