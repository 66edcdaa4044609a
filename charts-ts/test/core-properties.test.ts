import { HEALTH_PATHS, SERVICE_GID, SERVICE_UID, envFor } from '@flotilla/model';
import { describe, expect, it } from '@jest/globals';
import { shop } from '../../services/system.js';
import { podShutdownTiming } from '../src/shutdown.js';
import { environmentCases, loadManifests, matches, ofKind, type K8sObject } from './support/manifests.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
const manifests = loadManifests(shop);
const spec = (o: K8sObject) => o.spec as any;

describe.each(environmentCases)('environment %s', (name, env) => {
  const objects = manifests.get(name)!;
  const modelNames = new Set(shop.services.map((s) => s.name));
  // Platform components (collector, emulator, databases) have workloads and Services too: the checks of
  // selectors and backends cover them all; the hardening and graph checks cover the model's services.
  const workloads = [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'StatefulSet')];
  const allServices = ofKind(objects, 'Service');
  const deployments = ofKind(objects, 'Deployment').filter((d) => modelNames.has(d.metadata.name));
  const services = allServices.filter((s) => modelNames.has(s.metadata.name));

  it('has one Deployment and one ClusterIP Service per service of the model, named exactly like it', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(shop.services.map((s) => s.name).sort());
    expect(services.map((s) => s.metadata.name).sort()).toEqual(shop.services.map((s) => s.name).sort());
    for (const s of services) expect(spec(s).type).toBe('ClusterIP');
  });

  it("every Service selector matches exactly one workload's pod labels, and that workload serves its port", () => {
    for (const s of allServices.filter((x) => spec(x).selector)) {
      const selected = workloads.filter((d) => matches(spec(s).selector, spec(d).template.metadata.labels));
      // A Service is named like its workload; a Cloud Map registration Service names it in its label.
      const workload = s.metadata.annotations?.['external-dns.kubernetes.io/hostname']
        ? s.metadata.labels!['app.kubernetes.io/name']
        : s.metadata.name;
      expect(`${s.metadata.name}: ${selected.map((d) => d.metadata.name).join(',')}`).toBe(
        `${s.metadata.name}: ${workload}`,
      );
      const containerPorts = spec(selected[0]!).template.spec.containers.flatMap((c: any) => c.ports ?? []);
      for (const port of spec(s).ports) {
        const target = port.targetPort ?? port.port;
        expect(containerPorts.some((c: any) => c.containerPort === target || c.name === target)).toBe(true);
      }
    }
  });

  it('every Ingress backend names an existing Service port, and every public route is routed', () => {
    const routed: string[] = [];
    for (const ing of ofKind(objects, 'Ingress')) {
      for (const rule of spec(ing).rules) {
        for (const p of rule.http.paths) {
          const svc = allServices.find((s) => s.metadata.name === p.backend.service.name);
          expect(svc).toBeDefined();
          expect(spec(svc!).ports.map((x: any) => x.port)).toContain(p.backend.service.port.number);
          expect(p.pathType).toBe('Prefix');
          routed.push(`${p.backend.service.name}${p.path}`);
        }
      }
    }
    expect(routed.sort()).toEqual(shop.services.flatMap((s) => s.routes.map((r) => `${s.name}${r}`)).sort());
  });

  it('every Deployment is hardened', () => {
    const timing = podShutdownTiming(env.runtime);
    for (const d of deployments) {
      const pod = spec(d).template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: SERVICE_UID,
        runAsGroup: SERVICE_GID,
        fsGroup: SERVICE_GID,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.containers).toHaveLength(1);
      const c = pod.containers[0];
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        runAsNonRoot: true,
      });
      const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
      expect(pod.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined();
      expect(c.startupProbe.httpGet.path).toBe(HEALTH_PATHS.startup);
      expect(c.readinessProbe.httpGet.path).toBe(HEALTH_PATHS.ready);
      expect(c.livenessProbe.httpGet.path).toBe(HEALTH_PATHS.live);
      const model = shop.service(d.metadata.name);
      expect(c.resources.requests).toEqual({
        cpu: model.resources.cpu.request,
        memory: model.resources.memory.request,
      });
      expect(c.resources.limits.memory).toBe(model.resources.memory.limit);
      expect(c.lifecycle.preStop.sleep.seconds).toBe(timing.preStopSleepSeconds);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(timing.preStopSleepSeconds + 5 + 20);
      expect(spec(d).strategy).toEqual({
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
      });
      expect(pod.topologySpreadConstraints.map((t: any) => t.topologyKey).sort()).toEqual([
        'kubernetes.io/hostname',
        'topology.kubernetes.io/zone',
      ]);
      expect(c.imagePullPolicy).toBe('IfNotPresent');
      expect(c.image).toMatch(new RegExp(`:${env.image.tag}$`));
      for (const key of ['name', 'instance', 'version', 'component', 'part-of', 'managed-by']) {
        expect(spec(d).template.metadata.labels[`app.kubernetes.io/${key}`]).toBeTruthy();
      }
      expect(
        Object.keys(spec(d).template.metadata.labels).filter((k) => !k.startsWith('app.kubernetes.io/')),
      ).toEqual([]);
    }
  });

  it('hardens every platform component workload (collector, emulator, Postgres) for Pod Security restricted', () => {
    const components = workloads.filter((w) => !modelNames.has(w.metadata.name));
    expect(components.map((w) => w.metadata.name)).toContain('otel-collector');
    for (const w of components) {
      const pod = spec(w).template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        // Out of the Service long before a restart: liveness tolerates more failures than readiness.
        expect(c.readinessProbe).toBeDefined();
        expect(c.livenessProbe.failureThreshold).toBeGreaterThan(c.readinessProbe.failureThreshold ?? 3);
        expect(c.resources.limits.memory).toBeDefined();
      }
    }
  });

  it('puts exactly the env of envFor into each container (literals, Secret keys, downward API)', () => {
    for (const d of deployments) {
      const expected = Object.entries(envFor(shop, d.metadata.name, env.runtime)).map(([k, v]) =>
        typeof v === 'string'
          ? { name: k, value: v }
          : 'secret' in v
            ? {
                name: k,
                valueFrom: { secretKeyRef: { name: v.secret.name, key: v.secret.key, optional: false } },
              }
            : { name: k, valueFrom: { fieldRef: { fieldPath: v.field } } },
      );
      expect(spec(d).template.spec.containers[0].env).toEqual(expected);
    }
  });

  it('autoscales every Deployment with exactly one of HPA or ScaledObject, and no replicas field', () => {
    const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
    const scaled = ofKind(objects, 'ScaledObject');
    for (const d of deployments) {
      const targets = [...hpas, ...scaled].filter((a) => spec(a).scaleTargetRef.name === d.metadata.name);
      expect(targets).toHaveLength(1);
      expect(spec(d).replicas).toBeUndefined();
      const model = shop.service(d.metadata.name);
      expect(targets[0]!.kind).toBe(
        model.scaling.kind === 'cpu' ? 'HorizontalPodAutoscaler' : 'ScaledObject',
      );
    }
    for (const so of scaled) {
      const model = shop.service(spec(so).scaleTargetRef.name);
      expect(spec(so).triggers.map((t: any) => t.type)).toEqual(model.consumes.map(() => 'aws-sqs-queue'));
    }
  });

  it('has a PodDisruptionBudget selecting each service', () => {
    const pdbs = ofKind(objects, 'PodDisruptionBudget');
    for (const d of deployments)
      expect(
        pdbs.filter((p) => matches(spec(p).selector.matchLabels, spec(d).template.metadata.labels)),
      ).toHaveLength(1);
  });

  it('has no name with a hash suffix', () => {
    for (const o of objects) expect(o.metadata.name).not.toMatch(/-c8[0-9a-f]{6}$|-[0-9a-f]{8}$/);
  });

  it('enforces Pod Security restricted on the namespace', () => {
    const [ns] = ofKind(objects, 'Namespace');
    expect(ns!.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
    expect(ns!.metadata.labels!['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe(
      env.platform === 'eks' ? 'enabled' : undefined,
    );
  });

  it('allows exactly the declared calls between services, no more (ingress and egress)', () => {
    const policies = ofKind(objects, 'NetworkPolicy');
    const podsOf = (sel: any) =>
      deployments
        .filter((d) => sel?.matchLabels && matches(sel.matchLabels, spec(d).template.metadata.labels))
        .map((d) => d.metadata.name);
    const ingressPairs = new Set<string>();
    const egressPairs = new Set<string>();
    for (const p of policies) {
      const targets = Object.keys(spec(p).podSelector).length
        ? podsOf(spec(p).podSelector)
        : deployments.map((d) => d.metadata.name);
      for (const rule of spec(p).ingress ?? [])
        for (const peer of rule.from ?? [])
          if (!peer.namespaceSelector && !peer.ipBlock)
            for (const from of podsOf(peer.podSelector))
              for (const to of targets) ingressPairs.add(`${from}->${to}`);
      for (const rule of spec(p).egress ?? [])
        for (const peer of rule.to ?? [])
          if (!peer.namespaceSelector && !peer.ipBlock)
            for (const to of podsOf(peer.podSelector))
              for (const from of targets) egressPairs.add(`${from}->${to}`);
    }
    const declared = shop.services.flatMap((s) => s.calls.map((c) => `${s.name}->${c}`)).sort();
    expect(declared.length).toBeGreaterThan(0);
    expect([...ingressPairs].sort()).toEqual(declared);
    expect([...egressPairs].sort()).toEqual(declared);
    // Address-based sources: on EKS only the ALB's own subnets, and only to public services. With the
    // VPC CNI pods get VPC addresses, so a wider block (the VPC CIDR) would let every pod in.
    for (const s of shop.services) {
      const own = policies.find((p) => p.metadata.name === s.name)!;
      const blocks = (spec(own).ingress ?? []).flatMap((r: any) =>
        (r.from ?? []).filter((peer: any) => peer.ipBlock).map((peer: any) => peer.ipBlock.cidr),
      );
      if (env.platform === 'eks') expect(blocks).not.toContain(env.vpcCidr);
      const albSubnets =
        env.platform === 'eks' ? (env as any).alb.subnets.map((subnet: any) => subnet.cidr) : [];
      expect(blocks.sort()).toEqual(s.routes.length > 0 ? [...albSubnets].sort() : []);
    }
    const deny = policies.find((p) => p.metadata.name === 'default-deny')!;
    expect(spec(deny)).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [],
    });
  });
});
