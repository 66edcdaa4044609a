/**
 * A fake of the AWS Cloud Map data API: a node:http server speaking the AWS JSON 1.1 protocol for
 * `Route53AutoNaming_v20170314.DiscoverInstances`, so the real SDK client talks to it over HTTP.
 * @see https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
 */
import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeInstance {
  readonly id: string;
  readonly ipv4: string;
  readonly port: number;
  readonly health?: 'HEALTHY' | 'UNHEALTHY';
}

export interface DiscoverRequest {
  readonly NamespaceName?: string;
  readonly ServiceName?: string;
  readonly HealthStatus?: string;
}

export interface FakeCloudMap {
  readonly endpoint: string;
  /** Every DiscoverInstances request received. */
  readonly calls: DiscoverRequest[];
  /** Registers the instances of a service (replacing earlier ones); the service then exists. */
  register(namespace: string, service: string, instances: readonly FakeInstance[]): void;
  /** A real SDK client pointed at the fake, with one attempt (no SDK retries to wait for). */
  client(): ServiceDiscoveryClient;
  /** Stops the server: connections are then refused. */
  stop(): Promise<void>;
}

const TARGET = 'Route53AutoNaming_v20170314.DiscoverInstances';

export async function startFakeCloudMap(): Promise<FakeCloudMap> {
  const services = new Map<string, readonly FakeInstance[]>();
  const calls: DiscoverRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.headers['x-amz-target'] !== TARGET) {
        send(400, {
          __type: 'UnknownOperationException',
          message: `unsupported ${String(req.headers['x-amz-target'])}`,
        });
        return;
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as DiscoverRequest;
      calls.push(input);
      const list = services.get(`${input.NamespaceName}/${input.ServiceName}`);
      if (!list) {
        send(400, { __type: 'ServiceNotFound', Message: `Service ${input.ServiceName} not found` });
        return;
      }
      const healthy = list.filter((i) => (i.health ?? 'HEALTHY') === 'HEALTHY');
      const chosen = input.HealthStatus === 'HEALTHY_OR_ELSE_ALL' && healthy.length === 0 ? list : healthy;
      send(200, {
        Instances: chosen.map((i) => ({
          InstanceId: i.id,
          NamespaceName: input.NamespaceName,
          ServiceName: input.ServiceName,
          HealthStatus: i.health ?? 'HEALTHY',
          Attributes: { AWS_INSTANCE_IPV4: i.ipv4, AWS_INSTANCE_PORT: String(i.port) },
        })),
        InstancesRevision: 1,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    calls,
    register: (ns, service, instances) => void services.set(`${ns}/${service}`, instances),
    client: () =>
      new ServiceDiscoveryClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
        disableHostPrefix: true,
        maxAttempts: 1,
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
