/**
 * `make conformance`: every environment's `dist/<env>/` applied by `flotilla deploy` to a real
 * kube-apiserver (built from the Go module, with etcd), and what the server must refuse, refused.
 *
 * For each environment a fresh API server (its own etcd prefix: an empty cluster) gets the add-ons' CRDs,
 * then `flotilla deploy dist/<env> --no-wait` (strict field validation); every object must be accepted.
 * Then, against the same server: an unknown field, a privileged pod in the namespace (Pod Security
 * Admission, `restricted` as the charts label it) and a custom resource missing a required field must be
 * rejected, each named with the server's reason; and pruning lists, then deletes, what left `dist/`.
 * Ends with `conformance: N passed, N failed`; exits non-zero on any failure.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import {
  applySetOf,
  connect,
  countByKind,
  findMembers,
  inventoryOf,
  describe as describeRef,
  loadManifests,
  refOf,
  type Cluster,
  type KubeObject,
} from '@flotilla/deploy';
import { installAddonCrds } from './addons.js';
import { generateCertificates, type RunCertificates } from './certs.js';
import { startApiServer, startEtcd, writeKubeconfig, type RunningServer } from './servers.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = join(repo, 'dist');

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}
const checks: Check[] = [];

function check(name: string, ok: boolean, detail: string): void {
  checks.push({ name, ok, detail });
  process.stdout.write(
    `${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `\n     ${detail.split('\n').join('\n     ')}` : ''}\n`,
  );
}

/** The tools, built or reused by build-tools.sh; a build that cannot happen fails here, loudly. */
function tools(): { apiserver: string; etcd: string; versions: string } {
  const result = spawnSync('bash', [join(here, 'build-tools.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error('the conformance tools are not available (build-tools.sh said why above)');
  const found = new Map(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([name, version, path]) => [name!, { version: version!, path: path! }]),
  );
  const apiserver = found.get('kube-apiserver');
  const etcd = found.get('etcd');
  if (!apiserver || !etcd) throw new Error(`build-tools.sh did not name both tools:\n${result.stdout}`);
  return {
    apiserver: apiserver.path,
    etcd: etcd.path,
    versions: `kube-apiserver ${apiserver.version}, etcd ${etcd.version}`,
  };
}

interface DeployRun {
  readonly status: number;
  readonly output: string;
}

/** Runs the deploy command exactly as `make deploy` does, against the run's kubeconfig. */
function runDeploy(kubeconfig: string, dir: string, ...flags: string[]): DeployRun {
  const result = spawnSync(
    process.execPath,
    [
      '--conditions=flotilla-source',
      '--import',
      'tsx',
      join(repo, 'platform/deploy/src/cli.ts'),
      'deploy',
      dir,
      ...flags,
    ],
    { cwd: repo, env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8', timeout: 300_000 },
  );
  return { status: result.status ?? -1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** The environments `make synth` wrote. */
function environments(): string[] {
  return readdirSync(dist)
    .filter((name) => statSync(join(dist, name)).isDirectory())
    .sort();
}

/** The objects the server holds as members of an environment's ApplySet, read back after the deploy. */
function membersOnServer(cluster: Cluster, dir: string): Promise<KubeObject[]> {
  const manifests = loadManifests(dir);
  const { set } = applySetOf(manifests, dir, cluster.defaultNamespace);
  return findMembers(cluster, set, inventoryOf(manifests.map((m) => refOf(m.object))));
}

/** A service Deployment whose pod template runs a privileged container. */
function privilegedWorkload(manifests: readonly KubeObject[]): KubeObject {
  const deployment = manifests.find((o) => o.kind === 'Deployment')!;
  const copy = structuredClone(deployment) as KubeObject & {
    spec: { template: { spec: { containers: { securityContext?: object }[] } } };
  };
  copy.spec.template.spec.containers[0]!.securityContext = { privileged: true };
  return { ...copy, metadata: { ...copy.metadata, name: 'conformance-privileged-workload' } };
}

/** Objects the server must refuse, with the words its refusal must contain. */
function refusals(manifests: readonly KubeObject[]): { object: KubeObject; expect: RegExp; what: string }[] {
  const deployment = manifests.find(
    (o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'service',
  );
  const namespace = manifests.find((o) => o.kind === 'Namespace');
  const serviceAccount = manifests.find(
    (o) => o.kind === 'ServiceAccount' && o.metadata.namespace === namespace?.metadata.name,
  );
  if (!deployment || !namespace || !serviceAccount)
    throw new Error(
      'the environment has no service Deployment, Namespace or ServiceAccount to build the negative tests from',
    );
  const labels = {
    'app.kubernetes.io/part-of': deployment.metadata.labels?.['app.kubernetes.io/part-of'] ?? 'shop',
  };
  const ns = namespace.metadata.name;
  const withUnknownField = structuredClone(deployment) as KubeObject & {
    spec: { template: { spec: { containers: Record<string, unknown>[] } } };
  };
  withUnknownField.spec.template.spec.containers[0]!.imagePullPolicyy = 'Always';
  const unknown: KubeObject = {
    ...withUnknownField,
    metadata: { name: 'conformance-unknown-field', namespace: ns, labels },
  };
  const privileged: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'conformance-privileged', namespace: ns, labels },
    spec: {
      serviceAccountName: serviceAccount.metadata.name,
      automountServiceAccountToken: false,
      containers: [{ name: 'root', image: 'busybox:1.37', securityContext: { privileged: true } }],
    },
  };
  const missingRequired: KubeObject = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: 'conformance-missing-target', namespace: ns, labels },
    // KEDA's CRD requires spec.scaleTargetRef (and triggers); both left out.
    spec: { minReplicaCount: 1 },
  };
  const scaledObject = manifests.find((o) => o.kind === 'ScaledObject');
  if (!scaledObject)
    throw new Error('the environment has no ScaledObject to build the custom-resource negative test from');
  const crWithUnknownField: KubeObject = {
    ...scaledObject,
    metadata: { name: 'conformance-cr-unknown-field', namespace: ns, labels },
    spec: { ...(scaledObject.spec as object), pollingIntervall: 5 },
  };
  return [
    {
      object: unknown,
      expect: /imagePullPolicyy: field not declared in schema/,
      what: 'an unknown field is rejected',
    },
    // A structural CRD schema prunes unknown fields on write; the apply must fail instead.
    {
      object: crWithUnknownField,
      expect: /spec\.pollingIntervall: field not declared in schema|unknown field "spec\.pollingIntervall"/,
      what: 'an unknown field in a custom resource is rejected, not silently pruned',
    },
    {
      object: privileged,
      expect: /violates PodSecurity "restricted:/,
      what: `a privileged pod in namespace ${ns} is rejected by Pod Security Admission`,
    },
    {
      object: missingRequired,
      expect: /spec\.scaleTargetRef: Required value/,
      what: 'a custom resource missing a required field is rejected (CRD schema)',
    },
  ];
}

async function conformEnvironment(
  environment: string,
  bin: { apiserver: string; etcd: string },
  work: string,
  certs: RunCertificates,
  etcd: RunningServer,
): Promise<void> {
  const started = Date.now();
  const server = await startApiServer(bin.apiserver, work, certs, etcd, `/${environment}`);
  try {
    const kubeconfig = writeKubeconfig(join(work, `kubeconfig-${environment}`), server, certs);
    process.env.KUBECONFIG = kubeconfig;
    const cluster = connect();
    process.stdout.write(
      `\n== ${environment}: a fresh kube-apiserver at ${server.url} (ready in ${Math.round((Date.now() - started) / 1000)}s)\n`,
    );

    const crds = await installAddonCrds(cluster, repo);
    check(
      `${environment}: the add-ons' CRDs are accepted and established`,
      crds.problems.length === 0,
      `${crds.installed.length} established` + crds.problems.map((p) => `\n${p.file}: ${p.reason}`).join(''),
    );

    const dir = join(dist, environment);
    const manifests = loadManifests(dir).map((m) => m.object);
    if (environment === 'local') await conformFirstDryRun(kubeconfig, dir, cluster, manifests);
    const deployed = runDeploy(kubeconfig, dir, '--no-wait');
    const summary = deployed.output
      .split('\n')
      .filter((l) => /^(applied \d+ objects|deploy failed|warning:| {2}\S)/.test(l))
      .join('\n');
    check(
      `${environment}: flotilla deploy ${relativeDist(dir)} --no-wait applies every object`,
      deployed.status === 0,
      summary,
    );
    // A Pod Security warning on a workload means its pods would be refused when a controller creates them.
    const warnings = deployed.output.split('\n').filter((l) => l.startsWith('warning: '));
    check(
      `${environment}: no object draws a warning from the server (Pod Security "restricted", deprecated APIs)`,
      warnings.length === 0,
      warnings.join('\n'),
    );

    const again = runDeploy(kubeconfig, dir, '--dry-run');
    check(
      `${environment}: flotilla deploy --dry-run after the deploy validates every object on the server`,
      again.status === 0 &&
        again.output.includes(`validated ${manifests.length} objects`) &&
        !again.output.includes('skipped'),
      again.output.split('\n').find((l) => l.startsWith('validated')) ?? again.output.slice(-1500),
    );

    const members = await membersOnServer(cluster, dir);
    check(
      `${environment}: the server holds every object, labelled as the environment's ApplySet members`,
      members.length === manifests.length,
      `${members.length} of ${manifests.length} on the server: ${countByKind(members)}`,
    );

    const namespaces = manifests.filter((o) => o.kind === 'Namespace');
    for (const ns of namespaces) {
      const live = await cluster.get({ group: '', kind: 'Namespace', name: ns.metadata.name });
      const enforce = live?.metadata.labels?.['pod-security.kubernetes.io/enforce'];
      check(
        `${environment}: namespace ${ns.metadata.name} enforces Pod Security "${enforce}"`,
        enforce === 'restricted',
        '',
      );
    }

    // Every refusal through the deploy command, in one run: it must fail and name each object and reason.
    const refused = refusals(manifests);
    const badDir = join(work, `refusals-${environment}`, 'refusals');
    mkdirSync(badDir, { recursive: true });
    // Pod Security admits a workload whose pods it would refuse, with a warning deploy must pass on.
    const warned = privilegedWorkload(manifests);
    writeFileSync(
      join(badDir, 'bad.k8s.yaml'),
      [...refused.map((r) => r.object), warned].map((o) => stringify(o)).join('---\n'),
    );
    const bad = runDeploy(kubeconfig, badDir, '--no-wait');
    const warning =
      bad.output.split('\n').find((l) => l.startsWith(`warning: ${describeRef(refOf(warned))}: `)) ?? '';
    check(
      `${environment}: a Deployment whose pods Pod Security would refuse is stored, with the server's warning shown`,
      /would violate PodSecurity "restricted:/.test(warning),
      warning || bad.output.slice(-1500),
    );
    for (const { object, expect, what } of refused) {
      const name = describeRef(refOf(object));
      const reported = bad.output.split('\n').find((l) => l.startsWith(`  ${name}: `)) ?? '';
      check(
        `${environment}: ${what}`,
        bad.status === 1 && expect.test(reported),
        reported.trim() || `not reported (exit ${bad.status}):\n${bad.output.slice(-1500)}`,
      );
    }

    if (environment === 'local') {
      conformWaiting(kubeconfig, dir, manifests);
      await conformPrune(kubeconfig, dir, work, cluster);
    }
  } finally {
    await server.stop();
  }
}

/** A dry run on an empty cluster stores nothing, and says which objects it could not check (their namespace is new). */
async function conformFirstDryRun(
  kubeconfig: string,
  dir: string,
  cluster: Cluster,
  manifests: readonly KubeObject[],
): Promise<void> {
  const run = runDeploy(kubeconfig, dir, '--dry-run');
  const namespaces = manifests.filter((o) => o.kind === 'Namespace');
  let stored = 0;
  for (const ns of namespaces)
    if (await cluster.get({ group: '', kind: 'Namespace', name: ns.metadata.name })) stored += 1;
  // The summary's lines (`skipped Kind ns/name: why`), not the progress lines (`skipped   Kind ...`).
  const skipped = run.output.split('\n').filter((l) => /^skipped \S/.test(l)).length;
  check(
    `${relativeDist(dir)}: a first --dry-run stores nothing and names what it could not check`,
    run.status === 0 && stored === 0 && skipped > 0,
    `${run.output.split('\n').find((l) => l.startsWith('validated')) ?? ''}; ${skipped} skipped (their namespace is new)` +
      (run.status === 0 ? '' : `\nexit ${run.status}:\n${run.output.slice(-2000)}`),
  );
}

/**
 * Waiting: no controller runs here, so no Deployment ever becomes available; a deploy that waits must
 * give up at its timeout and name every workload it waited for, with its last status.
 */
function conformWaiting(kubeconfig: string, dir: string, manifests: readonly KubeObject[]): void {
  const workloads = manifests
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((o) => describeRef(refOf(o)));
  const run = runDeploy(kubeconfig, dir, '--timeout', '6s');
  const reported = run.output.split('\n').filter((l) => /^ {2}\S.*: not ready after 6s: /.test(l));
  check(
    `local: waiting gives up after --timeout and names each of the ${workloads.length} workloads with its status`,
    run.status === 1 && workloads.every((w) => reported.some((l) => l.startsWith(`  ${w}: `))),
    reported.slice(0, 2).join('\n') || run.output.slice(-1500),
  );
}

/** Pruning through the deploy command: without --prune the leftovers are listed and kept; with it, deleted. */
async function conformPrune(kubeconfig: string, dir: string, work: string, cluster: Cluster): Promise<void> {
  const copy = join(work, 'prune', 'local');
  cpSync(dir, copy, { recursive: true });
  const removed = readdirSync(copy).filter((f) => f.startsWith('40-'));
  for (const file of removed) rmSync(join(copy, file));
  const gone = removed.flatMap((f) =>
    loadManifests(dir)
      .filter((m) => m.file === f)
      .map((m) => refOf(m.object)),
  );
  const exists = async (): Promise<number> => {
    let n = 0;
    for (const ref of gone) if (await cluster.get(ref)) n += 1;
    return n;
  };
  const listed = runDeploy(kubeconfig, copy, '--no-wait');
  const names = gone.map(describeRef);
  check(
    `local: without --prune, the ${gone.length} objects no longer in dist are listed and kept`,
    listed.status === 0 &&
      names.every((n) => listed.output.includes(n)) &&
      listed.output.includes('--prune') &&
      (await exists()) === gone.length,
    names.join(', '),
  );
  const dry = runDeploy(kubeconfig, copy, '--dry-run', '--prune');
  check(
    'local: --dry-run --prune says what it would delete and deletes nothing',
    dry.status === 0 &&
      dry.output.includes(`would prune ${gone.length} objects`) &&
      (await exists()) === gone.length,
    dry.status === 0
      ? dry.output
          .split('\n')
          .filter((l) => /^would prune \d/.test(l))
          .join('')
      : `exit ${dry.status}:\n${dry.output.slice(-2000)}`,
  );
  const pruned = runDeploy(kubeconfig, copy, '--no-wait', '--prune');
  check(
    `local: with --prune they are deleted, and nothing else`,
    pruned.status === 0 &&
      (await exists()) === 0 &&
      (await membersOnServer(cluster, copy)).length === loadManifests(copy).length,
    pruned.output
      .split('\n')
      .filter((l) => l.startsWith('pruned'))
      .join('\n'),
  );
}

function relativeDist(dir: string): string {
  return dir.slice(repo.length + 1);
}

async function main(): Promise<void> {
  const began = Date.now();
  const bin = tools();
  process.stdout.write(`conformance: ${bin.versions}\n`);
  const work = mkdtempSync(join(tmpdir(), 'flotilla-conformance-'));
  let etcd: RunningServer | undefined;
  let failedToRun: unknown;
  try {
    const certs = generateCertificates(work);
    etcd = await startEtcd(bin.etcd, work, certs);
    for (const environment of environments()) await conformEnvironment(environment, bin, work, certs, etcd);
  } catch (error) {
    failedToRun = error;
  } finally {
    await etcd?.stop();
  }
  if (failedToRun) {
    process.stderr.write(
      `conformance could not run: ${failedToRun instanceof Error ? failedToRun.message : String(failedToRun)}\n(logs in ${work})\n`,
    );
    process.exitCode = 2;
    return;
  }
  const failed = checks.filter((c) => !c.ok).length;
  if (!failed) rmSync(work, { recursive: true, force: true });
  else process.stdout.write(`\nserver logs: ${work}\n`);
  process.stdout.write(
    `\nconformance: ${checks.length - failed} passed, ${failed} failed (${Math.round((Date.now() - began) / 1000)}s)\n`,
  );
  process.exitCode = failed ? 1 : 0;
}

await main();
