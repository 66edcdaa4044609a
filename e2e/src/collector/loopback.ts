/**
 * What a test changes in an emitted collector configuration to run it on this machine, and nothing more:
 * a second configuration merged over the emitted one. Each override says why.
 */
import { freePorts } from '@flotilla/dev';

/** The overrides and where the collector then listens. */
export interface LoopbackOverrides {
  /** The configuration to merge over the emitted one. */
  readonly config: Record<string, unknown>;
  /** `path: value (why)`, one per override, for the test's report. */
  readonly described: readonly string[];
  /** OTLP/HTTP base URL services export to. */
  readonly otlpHttpUrl: string;
  /** The health_check extension's URL. */
  readonly healthUrl: string;
}

/** Options of {@link loopbackOverrides}. */
export interface LoopbackOptions {
  /** The configuration the overrides go over: a component it does not have is not overridden (nor added). */
  readonly base: Record<string, unknown>;
  /** The AWS endpoint (moto's server) the awsxray and awsemf exporters send to; omit when the config has neither. */
  readonly awsEndpoint?: string;
  /** The debug exporter prints every span (the emitted `basic` prints counts only). @default false */
  readonly detailedDebug?: boolean;
}

/** Overrides that point an emitted configuration at loopback: ephemeral ports, no Kubernetes API, no instance metadata. */
export async function loopbackOverrides(options: LoopbackOptions): Promise<LoopbackOverrides> {
  const [grpc, http, health] = (await freePorts(3)) as [number, number, number];
  const described: string[] = [];
  const config: Record<string, Record<string, unknown>> = {
    receivers: {},
    processors: {},
    exporters: {},
    extensions: {},
    service: {},
  };
  const set = (path: string, value: unknown, why: string) => {
    const [section, ...rest] = path.split('.');
    const components = options.base[section!] as Record<string, unknown> | undefined;
    if (section !== 'service' && components?.[rest[0]!] === undefined) return;
    let node = config[section!] as Record<string, unknown>;
    for (const key of rest.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[rest.at(-1)!] = value;
    described.push(`${path}: ${JSON.stringify(value)} (${why})`);
  };
  set('receivers.otlp.protocols.grpc.endpoint', `127.0.0.1:${grpc}`, 'loopback, a free port');
  set('receivers.otlp.protocols.http.endpoint', `127.0.0.1:${http}`, 'loopback, a free port');
  set('extensions.health_check.endpoint', `127.0.0.1:${health}`, 'loopback, a free port');
  set('processors.k8s_attributes.passthrough', true, 'no Kubernetes API here: only tags the sender address');
  set(
    'processors.resource_detection.detectors',
    ['env'],
    'eks and ec2 read instance metadata, not to be called from a test',
  );
  set(
    'service.telemetry.metrics.level',
    'none',
    "the collector's own metrics would listen on the fixed port 8888",
  );
  if (options.awsEndpoint !== undefined) {
    for (const exporter of ['awsxray', 'awsemf']) {
      set(`exporters.${exporter}.endpoint`, options.awsEndpoint, "moto's server instead of AWS");
      set(`exporters.${exporter}.local_mode`, true, 'no EC2 instance metadata lookup');
    }
  }
  if (options.detailedDebug)
    set('exporters.debug.verbosity', 'detailed', 'print every span, to read the trace back');
  return {
    config,
    described,
    otlpHttpUrl: `http://127.0.0.1:${http}`,
    healthUrl: `http://127.0.0.1:${health}/`,
  };
}
