/**
 * AWS Cloud Map on moto's server: namespaces, services and instances registered through the real
 * ServiceDiscovery API (CreateHttpNamespace, CreateService, RegisterInstance, custom health), so the
 * runtime's `DiscoverInstances` is answered by an independent implementation rather than a fake.
 * @see https://docs.aws.amazon.com/cloud-map/latest/api/API_Operations.html
 */
import {
  CreateHttpNamespaceCommand,
  CreateServiceCommand,
  DeregisterInstanceCommand,
  GetOperationCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
  UpdateInstanceCustomHealthStatusCommand,
  type DiscoverInstancesCommandInput,
} from '@aws-sdk/client-servicediscovery';
import { MOTO_CREDENTIALS, startMotoServer, type MotoServer } from './moto-server.js';

export interface CloudMapInstance {
  readonly id: string;
  readonly ipv4: string;
  readonly port: number;
  /** Reported through custom health checks (the service is created with HealthCheckCustomConfig). */
  readonly health?: 'HEALTHY' | 'UNHEALTHY';
}

export interface MotoCloudMap {
  readonly endpoint: string;
  /**
   * Makes `instances` the registered instances of `service` in HTTP namespace `namespace`, creating the
   * namespace and the service when they do not exist yet and deregistering instances not listed.
   */
  register(namespace: string, service: string, instances: readonly CloudMapInstance[]): Promise<void>;
  /**
   * A real SDK client for the runtime to use, one attempt, with the `data-` host prefix of
   * DiscoverInstances off (moto serves every operation on one host). `calls` records its DiscoverInstances
   * requests.
   */
  client(): { readonly client: ServiceDiscoveryClient; readonly calls: DiscoverInstancesCommandInput[] };
  /** Stops moto: connections are then refused. */
  stop(): Promise<void>;
}

export const MOTO_REGION = 'us-east-1';

/** Starts a moto server for Cloud Map. */
export async function startMotoCloudMap(): Promise<MotoCloudMap> {
  const moto: MotoServer = await startMotoServer();
  const config = {
    endpoint: moto.endpoint,
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
    disableHostPrefix: true,
  };
  const admin = new ServiceDiscoveryClient(config);
  const namespaces = new Map<string, string>();
  const services = new Map<string, { id: string; instances: Set<string> }>();

  async function namespaceId(name: string): Promise<string> {
    const known = namespaces.get(name);
    if (known) return known;
    const { OperationId } = await admin.send(new CreateHttpNamespaceCommand({ Name: name }));
    const { Operation } = await admin.send(new GetOperationCommand({ OperationId }));
    const id = Operation?.Targets?.NAMESPACE;
    if (Operation?.Status !== 'SUCCESS' || !id)
      throw new Error(`CreateHttpNamespace ${name}: operation ${JSON.stringify(Operation)}`);
    namespaces.set(name, id);
    return id;
  }

  return {
    endpoint: moto.endpoint,
    async register(namespace, service, instances) {
      const key = `${namespace}/${service}`;
      let entry = services.get(key);
      if (!entry) {
        const out = await admin.send(
          new CreateServiceCommand({
            Name: service,
            NamespaceId: await namespaceId(namespace),
            HealthCheckCustomConfig: { FailureThreshold: 1 },
          }),
        );
        entry = { id: out.Service!.Id!, instances: new Set() };
        services.set(key, entry);
      }
      for (const old of entry.instances) {
        if (instances.some((i) => i.id === old)) continue;
        await admin.send(new DeregisterInstanceCommand({ ServiceId: entry.id, InstanceId: old }));
        entry.instances.delete(old);
      }
      for (const i of instances) {
        await admin.send(
          new RegisterInstanceCommand({
            ServiceId: entry.id,
            InstanceId: i.id,
            Attributes: { AWS_INSTANCE_IPV4: i.ipv4, AWS_INSTANCE_PORT: String(i.port) },
          }),
        );
        entry.instances.add(i.id);
        await admin.send(
          new UpdateInstanceCustomHealthStatusCommand({
            ServiceId: entry.id,
            InstanceId: i.id,
            Status: i.health ?? 'HEALTHY',
          }),
        );
      }
    },
    client() {
      const client = new ServiceDiscoveryClient({ ...config, maxAttempts: 1 });
      const calls: DiscoverInstancesCommandInput[] = [];
      client.middlewareStack.add(
        (next, context) => (args) => {
          if (context.commandName === 'DiscoverInstancesCommand')
            calls.push(args.input as DiscoverInstancesCommandInput);
          return next(args);
        },
        { step: 'initialize', name: 'recordDiscoverInstances' },
      );
      return { client, calls };
    },
    async stop() {
      admin.destroy();
      await moto.stop();
    },
  };
}
