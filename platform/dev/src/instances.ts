/**
 * The processes of one service on the local stack: the first one on the service's port, and more on free
 * ports (`Stack.startInstance`), each supervised (restarted when it crashes) and, when the service has
 * public routes, one of the gateway's upstreams of the service.
 */
import { HEALTH_PATHS } from '@flotilla/model';
import type { Gateway } from './gateway.js';
import { freePorts, waitUntilReady } from './ports.js';
import {
  SupervisedProcess,
  type ProcessState,
  type RestartPolicy,
  type SupervisorEvent,
} from './supervisor.js';

/** One process of a service. */
export interface RunningInstance {
  readonly service: string;
  /** `orders` for the first process, `orders#2`, `orders#3`... for the ones started after it. */
  readonly label: string;
  readonly port: number;
  readonly url: string;
  /** Current process id (changes on restart); undefined while the process is down. */
  readonly pid: number | undefined;
  readonly state: ProcessState;
}

/** What happened to a process: the supervisor's events, and `ready` once a restarted one serves again. */
export type InstanceEvent = SupervisorEvent | { readonly kind: 'ready' };

/** What every process of a service is started with. */
export interface ServiceLaunch {
  readonly service: string;
  /** The service's port (its first process's). */
  readonly port: number;
  /** Whether the gateway routes to it. */
  readonly routed: boolean;
  /** Why a second process cannot run, if it cannot (an embedded database opens in one process only). */
  readonly singleProcessReason?: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The complete environment of its processes; each gets its own `PORT` on top. */
  readonly env: Readonly<Record<string, string>>;
  readonly portVariable: string;
  readonly restart?: RestartPolicy;
  readonly readyTimeoutMs: number;
  readonly gateway: Gateway;
  /** Each line a process writes, with its label. */
  readonly onLine: (label: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** Something happened that stack.json and the messages should show. */
  readonly onEvent: (label: string, event: InstanceEvent, instance: RunningInstance) => void;
  /** Set once the stack stops: no more waiting for readiness. */
  readonly stopping: () => boolean;
}

interface Instance {
  readonly label: string;
  readonly port: number;
  readonly proc: SupervisedProcess;
}

export class ServiceInstances {
  private readonly instances: Instance[] = [];
  private started = 0;

  constructor(private readonly launch: ServiceLaunch) {}

  /** Starts the first process, on the service's port. */
  startFirst(): RunningInstance {
    return this.spawn(this.launch.port);
  }

  /** Starts one more process on a free port; resolves once it is ready and the gateway routes to it. */
  async add(): Promise<RunningInstance> {
    const { service, singleProcessReason, readyTimeoutMs, gateway } = this.launch;
    if (singleProcessReason)
      throw new Error(`Cannot start a second process of ${service}: ${singleProcessReason}`);
    const [port] = await freePorts(1);
    const instance = this.spawn(port!);
    await waitUntilReady(`${instance.url}${HEALTH_PATHS.ready}`, {
      timeoutMs: readyTimeoutMs,
      abort: () =>
        this.launch.stopping()
          ? 'the stack is stopping'
          : this.find(port!)?.proc.state === 'failed'
            ? `${instance.label} keeps crashing (see its log lines)`
            : undefined,
    });
    if (this.launch.routed) {
      gateway.addUpstream(service, port!);
      await gateway.probe(service);
    }
    return this.view(this.find(port!)!);
  }

  /**
   * Stops one process without restarting it: out of the gateway's rotation first, then SIGTERM (SIGKILL
   * after `graceMs`). Resolves when it has exited.
   */
  async stop(pid: number, graceMs: number): Promise<void> {
    const instance = this.instances.find((i) => i.proc.pid === pid);
    if (!instance) {
      throw new Error(
        `No process ${pid} of ${this.launch.service}; its processes: ${this.list()
          .map((i) => `${i.label} (pid ${i.pid ?? '-'})`)
          .join(', ')}.`,
      );
    }
    if (this.launch.routed) this.launch.gateway.removeUpstream(this.launch.service, instance.port);
    await instance.proc.stop(graceMs);
    // The service keeps one entry, so the stack still reports it (as stopped) when its last process stops.
    if (this.instances.length > 1) this.instances.splice(this.instances.indexOf(instance), 1);
  }

  async stopAll(graceMs: number): Promise<void> {
    await Promise.all(this.instances.map((i) => i.proc.stop(graceMs)));
  }

  list(): RunningInstance[] {
    return this.instances.map((i) => this.view(i));
  }

  /** The process the stack reports for the service: the oldest one that is not stopped. */
  primary(): RunningInstance {
    const live = this.instances.find((i) => i.proc.state !== 'stopped') ?? this.instances[0]!;
    return this.view(live);
  }

  /** Whether the first process gave up restarting (for the start-up wait). */
  get failed(): boolean {
    return this.instances[0]?.proc.state === 'failed';
  }

  private spawn(port: number): RunningInstance {
    const { service, command, args, cwd, env, portVariable, restart } = this.launch;
    const label = this.started++ === 0 ? service : `${service}#${this.started}`;
    const proc: SupervisedProcess = new SupervisedProcess({
      name: label,
      command,
      args,
      env: { ...env, [portVariable]: String(port) },
      cwd,
      ...(restart ? { restart } : {}),
      onLine: (line, stream) => this.launch.onLine(label, line, stream),
      onEvent: (event) => {
        const instance = this.find(port);
        if (instance) this.launch.onEvent(label, event, this.view(instance));
        if (event.kind === 'started' && event.attempt > 1) void this.rejoin(port);
      },
    });
    const instance: Instance = { label, port, proc };
    this.instances.push(instance);
    proc.start();
    return this.view(instance);
  }

  /** After a restart: the gateway routes to the process again as soon as it is ready. */
  private async rejoin(port: number): Promise<void> {
    const { service, readyTimeoutMs, gateway, stopping } = this.launch;
    await waitUntilReady(`http://127.0.0.1:${port}${HEALTH_PATHS.ready}`, {
      timeoutMs: readyTimeoutMs,
      abort: () => (stopping() || !this.find(port) ? 'stopping' : undefined),
    })
      .then(async () => {
        if (this.launch.routed) await gateway.probe(service);
        const instance = this.find(port);
        if (instance) this.launch.onEvent(instance.label, { kind: 'ready' }, this.view(instance));
      })
      .catch(() => undefined);
  }

  private find(port: number): Instance | undefined {
    return this.instances.find((i) => i.port === port);
  }

  private view({ label, port, proc }: Instance): RunningInstance {
    return {
      service: this.launch.service,
      label,
      port,
      url: `http://127.0.0.1:${port}`,
      pid: proc.pid,
      state: proc.state,
    };
  }
}
