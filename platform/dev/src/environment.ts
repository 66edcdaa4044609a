/**
 * The `local` RuntimeEnvironment: what `envFor` needs to give each local process its variables.
 */
import { EMULATOR_ACCOUNT_ID, type RuntimeEnvironment } from '@flotilla/model';

export interface LocalEnvironmentOptions {
  /** SQS/SNS endpoint of the in-process emulator, e.g. `http://127.0.0.1:4566`. */
  readonly messagingEndpoint: string;
  /** OTLP/HTTP endpoint of the local trace sink, e.g. `http://127.0.0.1:4318`. */
  readonly otlpEndpoint: string;
  /** Absolute directory holding one embedded database directory per service. */
  readonly dataDir: string;
  /**
   * `embedded`: each service's PGlite database under `dataDir`. `server`: a PostgreSQL server, each service's
   * URL in the variable the Secret `<service>-db` fills in a cluster (the stack provides its value).
   * @default 'embedded'
   */
  readonly databases?: 'embedded' | 'server';
  /** Graceful shutdown timing of the services. @default - local's: no drain, 10 s (see `shutdownTiming`) */
  readonly shutdown?: RuntimeEnvironment['shutdown'];
  /** Port per service when not the model's (ephemeral ports in tests). @default - the model's ports */
  readonly ports?: Readonly<Record<string, number>>;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default 'info' */
  readonly logLevel?: RuntimeEnvironment['logLevel'];
}

/** The environment `make dev` runs in: name `local`, processes on 127.0.0.1, emulator, embedded databases. */
export function localEnvironment(options: LocalEnvironmentOptions): RuntimeEnvironment {
  return {
    name: 'local',
    platform: 'local',
    namespace: 'local',
    aws: { region: options.region ?? 'us-east-1', accountId: EMULATOR_ACCOUNT_ID },
    messagingEndpoint: options.messagingEndpoint,
    discovery: { method: 'static', host: '127.0.0.1' },
    telemetry: { otlpEndpoint: options.otlpEndpoint, samplingRatio: 1 },
    database:
      options.databases === 'server' ? { kind: 'secret' } : { kind: 'embedded', dataDir: options.dataDir },
    logLevel: options.logLevel ?? 'info',
    ...(options.shutdown ? { shutdown: options.shutdown } : {}),
    ...(options.ports ? { ports: options.ports } : {}),
  };
}
