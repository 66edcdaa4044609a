import { databaseSecretName, DATABASE_SECRET_KEY } from '@flotilla/model';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { shop } from '../../services/system.js';
import { logShipperPolicy, serviceLogGroup } from '../src/constructs/logging.js';
import { local, prod } from '../src/environments/index.js';
import { environmentCases, loadManifests, type K8sObject } from './support/manifests.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
const manifests = loadManifests(shop);
const spec = (o: K8sObject) => o.spec as any;
const containerEnv = (objects: K8sObject[], service: string) =>
  spec(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === service)!).template.spec
    .containers[0].env as any[];

describe.each(environmentCases)('OTel collector in %s', (name, env) => {
  const objects = manifests.get(name)!;
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'otel-collector')!;
  const config = parse((cm as any).data['config.yaml']);

  it('is the Service every service exports to, on OTLP gRPC 4317 and HTTP 4318', () => {
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'otel-collector')!;
    expect(svc.metadata.namespace).toBe(env.namespace);
    expect(
      spec(svc)
        .ports.map((p: any) => p.port)
        .sort(),
    ).toEqual([4317, 4318]);
    for (const s of shop.services) {
      const endpoint = containerEnv(objects, s.name).find(
        (e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT',
      ).value;
      expect(endpoint).toBe(`http://otel-collector.${env.namespace}.svc.cluster.local:4318`);
    }
  });

  it('listens on every interface, not the collector default of localhost', () => {
    expect(config.receivers.otlp.protocols.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
  });

  it('runs traces and metrics through memory_limiter, k8s_attributes, resource_detection and batch', () => {
    for (const p of ['traces', 'metrics']) {
      // On EKS metrics also get their bounded status class before the batch.
      const statusClass = p === 'metrics' && env.platform === 'eks' ? ['transform/status_class'] : [];
      expect(config.service.pipelines[p].processors).toEqual([
        'memory_limiter',
        'k8s_attributes',
        'resource_detection',
        ...statusClass,
        'batch',
      ]);
      for (const proc of config.service.pipelines[p].processors)
        expect(config.processors[proc]).toBeDefined();
      for (const exp of config.service.pipelines[p].exporters) expect(config.exporters[exp]).toBeDefined();
    }
    if (env.platform === 'eks') {
      expect(config.service.pipelines.traces.exporters).toEqual(['awsxray']);
      expect(config.service.pipelines.metrics.exporters).toEqual(['awsemf']);
      expect(config.processors.resource_detection.detectors).toEqual(['env', 'eks', 'ec2']);
      expect(config.exporters.awsemf.log_group_name).toBe(`/flotilla/shop/${name}/metrics`);
    } else {
      expect(config.service.pipelines.traces.exporters).toEqual(['debug']);
    }
  });

  it('may read pods, namespaces and replicasets for k8sattributes, bound to its ServiceAccount', () => {
    const role = objects.find(
      (o) => o.kind === 'ClusterRole' && o.metadata.name === `${env.namespace}-otel-collector`,
    )! as any;
    const can = (group: string, resource: string) =>
      role.rules.some(
        (r: any) =>
          r.apiGroups.includes(group) &&
          r.resources.includes(resource) &&
          ['get', 'list', 'watch'].every((v) => r.verbs.includes(v)),
      );
    expect(can('', 'pods') && can('', 'namespaces') && can('apps', 'replicasets')).toBe(true);
    const binding = objects.find(
      (o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === role.metadata.name,
    )! as any;
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'otel-collector', namespace: env.namespace },
    ]);
    const deploy = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'otel-collector')!;
    expect(spec(deploy).template.spec.serviceAccountName).toBe('otel-collector');
  });
});

describe('databases', () => {
  const dbServices = shop.services.filter((s) => s.database).map((s) => s.name);

  it('in kind, gives each database service a Secret with a URL to its own database on the cluster Postgres', () => {
    const objects = manifests.get('local')!;
    const init = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'postgres-init')! as any;
    for (const s of dbServices) {
      const secret = objects.find(
        (o) => o.kind === 'Secret' && o.metadata.name === databaseSecretName(s),
      )! as any;
      const url = new URL(secret.stringData[DATABASE_SECRET_KEY]);
      const db = s.replace(/-/g, '_');
      expect(url.hostname).toBe(`postgres.${local.namespace}.svc.cluster.local`);
      expect(url.pathname).toBe(`/${db}`);
      expect(url.username).toBe(db);
      expect(init.stringData['init.sql']).toContain(`CREATE USER ${db} WITH PASSWORD '${url.password}';`);
      expect(init.stringData['init.sql']).toContain(`CREATE DATABASE ${db} OWNER ${db};`);
      // The service reads exactly that Secret.
      const ref = containerEnv(objects, s).find((e) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef;
      expect(ref).toMatchObject({ name: databaseSecretName(s), key: DATABASE_SECRET_KEY });
    }
    const passwords = dbServices.map(
      (s) =>
        new URL((objects.find((o) => o.metadata.name === databaseSecretName(s)) as any).stringData.url)
          .password,
    );
    expect(new Set(passwords).size).toBe(passwords.length);
    expect(objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name)).toEqual(['postgres']);
  });

  it.each(['dev', 'prod'])(
    'in %s, fills the same Secret from AWS Secrets Manager with an ExternalSecret',
    (name) => {
      const objects = manifests.get(name)!;
      const externals = objects.filter((o) => o.kind === 'ExternalSecret');
      expect(externals.map((e) => e.metadata.name).sort()).toEqual(dbServices.map(databaseSecretName).sort());
      for (const e of externals) {
        expect(spec(e).target.name).toBe(e.metadata.name);
        expect(spec(e).data[0].secretKey).toBe(DATABASE_SECRET_KEY);
        expect(spec(e).secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'aws-secrets-manager' });
      }
      expect(objects.filter((o) => o.kind === 'Secret' && o.metadata.name.endsWith('-db'))).toEqual([]);
      expect(objects.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
    },
  );
});

describe('Cloud Map', () => {
  it('registers every service where discovery is cloudmap (prod), and none elsewhere', () => {
    const registered = (env: string) =>
      manifests
        .get(env)!
        .filter(
          (o) => o.kind === 'Service' && o.metadata.annotations?.['external-dns.kubernetes.io/hostname'],
        )
        .map((o) => o.metadata.labels!['app.kubernetes.io/name']);
    expect(prod.runtime.discovery.method).toBe('cloudmap');
    expect(registered('prod').sort()).toEqual(shop.services.map((s) => s.name).sort());
    expect(registered('dev')).toEqual([]);
    expect(registered('local')).toEqual([]);
  });
});

describe('logs', () => {
  it('lets the log shipper write one log group per service and nothing else', () => {
    const resources = logShipperPolicy(shop, prod).Statement.flatMap((s) => s.Resource);
    for (const s of shop.services) {
      expect(resources).toContain(
        `arn:aws:logs:${prod.region}:${prod.accountId}:log-group:${serviceLogGroup('shop', prod, s.name)}`,
      );
    }
    expect(
      resources.every((r) =>
        r.startsWith(`arn:aws:logs:${prod.region}:${prod.accountId}:log-group:/flotilla/shop/prod/`),
      ),
    ).toBe(true);
  });
});
