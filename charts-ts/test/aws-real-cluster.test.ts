/**
 * What a first `kubectl apply` or Argo CD sync on a real EKS cluster needs beyond schema validity: a
 * controller for every custom resource, one owner per object, ordering that waits for real readiness,
 * network rules that keep the call graph, metrics that stay bounded, and identities that cannot be
 * widened. Each block is one way the rendered `prod`/`dev` manifests used to break on a cluster.
 */
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { shop } from '../../services/system.js';
import { dev, prod } from '../src/environments/index.js';
import { eksEnvironment } from '../src/environments/define.js';
import { loadManifests, ofKind, type K8sObject } from './support/manifests.js';
import { runHealthScript } from './support/lua.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
const manifests = loadManifests(shop);
const spec = (o: K8sObject) => o.spec as any;
const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
const applications = (env: string) => ofKind(manifests.get(env)!, 'Application');
/** Every Helm source of an Application (`source` or `sources`). */
const helmSources = (app: K8sObject): any[] =>
  [spec(app).source, ...(spec(app).sources ?? [])].filter((s) => s?.chart);
const addonApp = (env: string, chart: string) =>
  applications(env).find((a) => helmSources(a).some((s) => s.chart === chart));
const valuesOf = (env: string, chart: string) =>
  helmSources(addonApp(env, chart)!).find((s) => s.chart === chart).helm.valuesObject;
const collectorConfig = (env: string) =>
  parse(
    (manifests.get(env)!.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'otel-collector') as any)
      .data['config.yaml'],
  );
const statementsOf = (o: K8sObject) => JSON.parse(spec(o).policyDocument).Statement as any[];
const ackPolicy = (env: string, name: string) =>
  ofKind(manifests.get(env)!, 'Policy').find((p) => p.metadata.name === name)!;

describe('Cloud Map registration (prod discovers peers through Cloud Map)', () => {
  const objects = manifests.get('prod')!;
  const namespace = prod.runtime.discovery.method === 'cloudmap' ? prod.runtime.discovery.namespace : '';

  it('renders no ServiceExport: nothing on EKS installs the MCS controller, so the platform app would never sync', () => {
    expect(objects.filter((o) => o.kind === 'ServiceExport')).toEqual([]);
  });

  it("registers each service's ready pods as instances of <service> in the runtime's Cloud Map namespace", () => {
    expect(namespace).toBe('shop.internal');
    for (const s of shop.services) {
      const registered = objects.filter(
        (o) =>
          o.kind === 'Service' &&
          o.metadata.annotations?.['external-dns.kubernetes.io/hostname'] === `${s.name}.${namespace}`,
      );
      expect(registered).toHaveLength(1);
      const svc = spec(registered[0]!);
      // Headless: ExternalDNS registers the ready pod IPs (not a cluster IP), one instance per pod.
      expect(svc.clusterIP).toBe('None');
      expect(svc.publishNotReadyAddresses ?? false).toBe(false);
      expect(svc.ports.map((p: any) => p.port)).toEqual([s.port]);
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === s.name)!;
      for (const [k, v] of Object.entries(svc.selector as Record<string, string>))
        expect(spec(deployment).template.metadata.labels[k]).toBe(v);
    }
  });

  it('installs ExternalDNS with the AWS Cloud Map provider, limited to that namespace and the system namespace', () => {
    const values = valuesOf('prod', 'external-dns');
    expect(values.provider).toEqual({ name: 'aws-sd' });
    expect(values.registry).toBe('aws-sd');
    expect(values.domainFilters).toEqual([namespace]);
    expect(values.sources).toEqual(['service']);
    expect(values.sourceNamespace).toBe(prod.namespace);
    expect(values.policy).toBe('sync');
    expect(addonApp('dev', 'external-dns')).toBeUndefined();
  });

  it('gives ExternalDNS Cloud Map and Route 53 record rights only, the writes limited to what it tagged', () => {
    const statements = statementsOf(ackPolicy('prod', 'shop-prod-external-dns'));
    const actions = statements.flatMap((s) => s.Action);
    expect(actions.every((a: string) => /^(servicediscovery|route53):/.test(a))).toBe(true);
    for (const write of ['servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance']) {
      const st = statements.find((s) => s.Action.includes(write));
      expect(Object.keys(st.Condition.StringEquals)).toEqual(['aws:ResourceTag/flotilla.dev/owner']);
    }
    expect(ofKind(manifests.get('dev')!, 'Policy').map((p) => p.metadata.name)).not.toContain(
      'shop-dev-external-dns',
    );
  });
});

describe('the ALB (AWS Load Balancer Controller)', () => {
  const objects = manifests.get('prod')!;
  const params = ofKind(objects, 'IngressClassParams')[0]!;
  /** Ingress annotations and the IngressClassParams field that overrides each. */
  const PARAM_FOR_ANNOTATION: Record<string, string> = {
    scheme: 'scheme',
    'group.name': 'group',
    'target-type': 'targetType',
    'ssl-policy': 'sslPolicy',
    'certificate-arn': 'certificateArn',
    'load-balancer-attributes': 'loadBalancerAttributes',
    'ssl-redirect': 'sslRedirectPort',
    subnets: 'subnets',
    'inbound-cidrs': 'inboundCIDRs',
    'ip-address-type': 'ipAddressType',
    'load-balancer-name': 'loadBalancerName',
    tags: 'tags',
  };

  it('writes each ALB setting once: nothing an IngressClassParams field sets is also an Ingress annotation', () => {
    for (const ing of ofKind(objects, 'Ingress')) {
      for (const key of Object.keys(ing.metadata.annotations ?? {})) {
        const field = PARAM_FOR_ANNOTATION[key.replace('alb.ingress.kubernetes.io/', '')];
        if (field)
          expect(`${key} also set as IngressClassParams.${field}: ${field in spec(params)}`).toMatch(
            /false$/,
          );
      }
    }
  });

  it('leaves the IngressClass to the ingress app: the chart creates none, so one application owns IngressClass/alb', () => {
    const values = valuesOf('prod', 'aws-load-balancer-controller');
    expect(values.createIngressClassResource).toBe(false);
    expect(ofKind(objects, 'IngressClass').map((c) => c.metadata.name)).toEqual(['alb']);
  });

  it('gives the controller its VPC and region, so it never depends on instance metadata', () => {
    const values = valuesOf('prod', 'aws-load-balancer-controller');
    expect(values.region).toBe(prod.region);
    expect(values.vpcId).toMatch(/^vpc-[0-9a-f]+$/);
    expect(values.vpcId).toBe((prod as any).vpcId);
  });
});

describe('logs', () => {
  const objects = manifests.get('prod')!;

  it("lets the log shipper write the group of every labelled workload of the namespace, the collector's too", () => {
    const resources = statementsOf(ackPolicy('prod', 'shop-prod-log-shipper')).flatMap((s) => s.Resource);
    const names = new Set(
      ofKind(objects, 'Deployment').map((d) => spec(d).template.metadata.labels['app.kubernetes.io/name']),
    );
    expect(names).toContain('otel-collector');
    for (const name of names)
      expect(resources).toContain(
        `arn:aws:logs:${prod.region}:${prod.accountId}:log-group:/flotilla/shop/prod/${name}`,
      );
  });

  it('gives every log group a retention: the shipped container logs and the EMF metrics group', () => {
    expect(valuesOf('prod', 'aws-for-fluent-bit').cloudWatchLogs.logRetentionDays).toBeGreaterThan(0);
    expect(collectorConfig('prod').exporters.awsemf.log_retention).toBeGreaterThan(0);
    const emf = statementsOf(ackPolicy('prod', 'shop-prod-otel-collector')).find((s) => s.Sid === 'EmfLogs');
    expect(emf.Action).toContain('logs:PutRetentionPolicy');
  });
});

describe('Argo CD ordering and health', () => {
  it.each(['dev', 'prod'])(
    '%s: every AppProject and Argo CD setting syncs before the Applications that use them',
    (env) => {
      const objects = manifests.get(env)!;
      const first = Math.min(
        ...applications(env)
          .filter((a) => a.metadata.name !== `shop-${env}`)
          .map(wave),
      );
      for (const o of [
        ...ofKind(objects, 'AppProject'),
        ...objects.filter((o) => o.metadata.name === 'argocd-cm'),
      ])
        expect(wave(o)).toBeLessThan(first);
    },
  );

  it('creates IAM policies, then roles, then Pod Identity associations, then the workloads that use them', () => {
    const objects = manifests.get('prod')!;
    const waves = (kind: string) =>
      new Set(
        ofKind(objects, kind)
          .filter((o) => o.metadata.namespace === 'shop')
          .map(wave),
      );
    const [policies, roles, associations] = [waves('Policy'), waves('Role'), waves('PodIdentityAssociation')];
    const collector = wave(
      objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'otel-collector')!,
    );
    expect(Math.max(...policies)).toBeLessThan(Math.min(...roles));
    expect(Math.max(...roles)).toBeLessThan(Math.min(...associations));
    expect(Math.max(...associations)).toBeLessThan(collector);
  });

  const cm = () =>
    manifests.get('prod')!.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'argocd-cm') as any;
  const ackKinds = [
    ...new Set(
      manifests
        .get('prod')!
        .filter((o) => o.apiVersion.includes('.services.k8s.aws/'))
        .map((o) => `${o.apiVersion.split('/')[0]}_${o.kind}`),
    ),
  ];

  it('gives Argo CD a health check for every ACK kind rendered, and for child Applications', () => {
    expect(ackKinds.length).toBeGreaterThan(0);
    expect(cm()?.metadata.labels?.['app.kubernetes.io/part-of']).toBe('argocd');
    for (const key of [...ackKinds, 'argoproj.io_Application'])
      expect(cm().data[`resource.customizations.health.${key}`]).toBeDefined();
  });

  it.each(ackKinds)('%s is healthy only once ACK.ResourceSynced is True, degraded on ACK.Terminal', (key) => {
    const script = cm().data[`resource.customizations.health.${key}`];
    const withConditions = (conditions: object[]) => ({ status: { conditions } });
    expect(runHealthScript(script, {}).status).toBe('Progressing');
    expect(
      runHealthScript(script, withConditions([{ type: 'ACK.ResourceSynced', status: 'False' }])).status,
    ).toBe('Progressing');
    expect(
      runHealthScript(script, withConditions([{ type: 'ACK.ResourceSynced', status: 'True' }])).status,
    ).toBe('Healthy');
    const terminal = withConditions([
      { type: 'ACK.ResourceSynced', status: 'False' },
      { type: 'ACK.Terminal', status: 'True', message: 'InvalidParameterValue' },
    ]);
    expect(runHealthScript(script, terminal)).toEqual({
      status: 'Degraded',
      message: 'InvalidParameterValue',
    });
  });

  it("reports a child Application's own health, so a wave waits for the one before it", () => {
    const script = cm().data['resource.customizations.health.argoproj.io_Application'];
    expect(runHealthScript(script, { status: { health: { status: 'Degraded', message: 'x' } } })).toEqual({
      status: 'Degraded',
      message: 'x',
    });
    expect(runHealthScript(script, {}).status).toBe('Progressing');
  });
});

describe('ACK ownership and deletion', () => {
  it('installs the ACK controllers from one Application, so the CRDs they share have one owner', () => {
    const ack = applications('prod').filter((a) =>
      helmSources(a).some((s) => s.repoURL.includes('aws-controllers-k8s')),
    );
    expect(ack).toHaveLength(1);
    expect(
      helmSources(ack[0]!)
        .map((s) => s.chart)
        .sort(),
    ).toEqual(['eks-chart', 'iam-chart', 'sns-chart', 'sqs-chart']);
  });

  it('retains the AWS resource when its ACK object is deleted or pruned, controller-wide and on every object', () => {
    const ack = applications('prod').find((a) => helmSources(a).some((s) => s.chart === 'sqs-chart'))!;
    for (const source of helmSources(ack)) expect(source.helm.valuesObject.deletionPolicy).toBe('retain');
    const ackObjects = manifests.get('prod')!.filter((o) => o.apiVersion.includes('.services.k8s.aws/'));
    expect(ackObjects.length).toBeGreaterThan(0);
    for (const o of ackObjects)
      expect(o.metadata.annotations?.['services.k8s.aws/deletion-policy']).toBe('retain');
  });
});

describe('awsemf metrics', () => {
  const emf = () => collectorConfig('prod').exporters.awsemf;

  it('names log streams from an attribute the services set (no {PodName}, which the SDK never sets)', () => {
    expect(JSON.stringify(emf())).not.toContain('{PodName}');
  });

  it('declares its metrics with bounded dimensions only (service, route, status class)', () => {
    const declarations = emf().metric_declarations;
    expect(declarations.length).toBeGreaterThan(0);
    const bounded = new Set([
      'service.name',
      'http.route',
      'http.response.status_class',
      'http.request.method',
    ]);
    for (const d of declarations)
      for (const set of d.dimensions) for (const dim of set) expect(bounded).toContain(dim);
    expect(emf().dimension_rollup_option).toBe('NoDimensionRollup');
  });
});

describe('smaller hardening', () => {
  const objects = manifests.get('prod')!;

  it('gives the collector a PodDisruptionBudget and separate liveness and readiness checks', () => {
    const pdb = ofKind(objects, 'PodDisruptionBudget').filter(
      (p) => spec(p).selector.matchLabels['app.kubernetes.io/name'] === 'otel-collector',
    );
    expect(pdb).toHaveLength(1);
    const c = spec(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'otel-collector')!)
      .template.spec.containers[0];
    expect(JSON.stringify(c.readinessProbe.httpGet ?? c.readinessProbe.tcpSocket)).not.toBe(
      JSON.stringify(c.livenessProbe.httpGet ?? c.livenessProbe.tcpSocket),
    );
  });

  it('lets only this account (and this cluster) assume the Pod Identity roles', () => {
    for (const role of ofKind(objects, 'Role').filter((r) => r.apiVersion.startsWith('iam.'))) {
      const trust = JSON.parse(spec(role).assumeRolePolicyDocument).Statement[0];
      expect(trust.Condition.StringEquals['aws:SourceAccount']).toBe(prod.accountId);
      expect(trust.Condition.ArnEquals['aws:SourceArn']).toBe(
        `arn:aws:eks:${prod.region}:${prod.accountId}:cluster/${prod.clusterName}`,
      );
    }
  });

  it('bounds every ACK role by the permissions boundary, and the boundary allows what each role is granted', () => {
    const roles = ofKind(objects, 'Role').filter((r) => r.apiVersion.startsWith('iam.'));
    const boundaryArn = `arn:aws:iam::${prod.accountId}:policy/shop-prod-boundary`;
    const boundary = statementsOf(ackPolicy('prod', 'shop-prod-boundary')).flatMap((s) => s.Action);
    for (const role of roles) {
      expect(spec(role).permissionsBoundary).toBe(boundaryArn);
      for (const st of statementsOf(ackPolicy('prod', role.metadata.name)))
        for (const action of st.Action) expect(boundary).toContain(action);
    }
  });

  it("lets the system's Argo CD project create only the kinds the system renders", () => {
    const project = ofKind(objects, 'AppProject').find((p) => p.metadata.name === 'shop-prod')!;
    const allowed = spec(project).namespaceResourceWhitelist as { group: string; kind: string }[];
    expect(allowed.some((r) => r.kind === '*' || r.group === '*')).toBe(false);
    expect(allowed).toContainEqual({ group: 'iam.services.k8s.aws', kind: 'Role' });
    expect(allowed).not.toContainEqual({ group: 'iam.services.k8s.aws', kind: 'User' });
  });

  it('deploys by digest when the environment gives one (tags stay for people, the digest pins the bytes)', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const { platform: _platform, runtime: _runtime, ...written } = dev;
    const { name: _n, platform: _p, namespace: _ns, aws: _a, version: _v, ...runtime } = dev.runtime;
    const env = eksEnvironment(
      { ...written, image: { ...dev.image, digests: { orders: digest } } } as any,
      runtime as any,
    );
    const orders = loadManifests(shop, [env])
      .get('dev')!
      .find((o) => o.kind === 'Deployment' && o.metadata.name === 'orders')!;
    expect(spec(orders).template.spec.containers[0].image).toBe(
      `${dev.image.registry}/orders:${dev.image.tag}@${digest}`,
    );
  });
});
