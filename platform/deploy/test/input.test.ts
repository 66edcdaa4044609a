import { jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContextError, loadKubeConfig } from '../src/cluster.js';
import { main, parseCommand, parseDuration, UsageError } from '../src/cli.js';
import { loadManifests, ManifestError } from '../src/manifests.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
let work: string;
const savedKubeconfig = process.env.KUBECONFIG;
const savedHome = process.env.HOME;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'flotilla-deploy-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
  process.env.HOME = savedHome;
});

function envDir(files: Record<string, string>): string {
  const dir = join(work, 'dist', 'dev');
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('bad input', () => {
  it('names a missing dist/<env> and the environments that exist', () => {
    envDir({ 'a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' });
    expect(() => loadManifests(join(work, 'dist', 'staging'))).toThrow(
      new ManifestError(
        `no manifests folder ${join(work, 'dist', 'staging')}: run \`make synth\` to write dist/<env>/ (folders in ${join(work, 'dist')}: dev)`,
      ),
    );
  });

  it('lists every document that is not a Kubernetes object, by file and position, and applies nothing', () => {
    const dir = envDir({
      '00-ok.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n',
      '10-bad.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\n- just\n- a list\n---\nkind: List\napiVersion: v1\nmetadata: {name: l}\n',
      '20-broken.yaml': 'apiVersion: v1\nkind: [unclosed\n',
      'README.md': 'not read',
    });
    let error: ManifestError | undefined;
    try {
      loadManifests(dir);
    } catch (e) {
      error = e as ManifestError;
    }
    expect(error).toBeInstanceOf(ManifestError);
    expect(error!.problems).toEqual([
      '10-bad.yaml document 1: not a Kubernetes object: missing metadata.name',
      '10-bad.yaml document 2: not a Kubernetes object: expected a mapping with apiVersion, kind and metadata, found a list',
      '10-bad.yaml document 3: not a Kubernetes object: List is not supported: write its items as documents',
      expect.stringMatching(/^20-broken\.yaml document 1 \(line \d+\): not valid YAML: /),
    ]);
    expect(error!.message).toMatch(/3 problem|4 problem/);
  });

  it('refuses the same object twice', () => {
    const dir = envDir({
      'a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n',
      'b.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n',
    });
    expect(() => loadManifests(dir)).toThrow(
      /b\.yaml document 1: Namespace shop is also in a\.yaml document 1/,
    );
  });

  it('reads only manifest files directly in the folder (argocd/ and iam/ are not applied)', () => {
    const manifests = loadManifests(join(repo, 'dist', 'dev'));
    expect(manifests.some((m) => m.file.includes('/'))).toBe(false);
    expect(manifests.some((m) => m.object.kind === 'Application')).toBe(false);
  });

  it('says there is no kubeconfig, and how to get one', () => {
    delete process.env.KUBECONFIG;
    process.env.HOME = work;
    expect(() => loadKubeConfig()).toThrow(ContextError);
    expect(() => loadKubeConfig()).toThrow(
      /no kubeconfig: .*\.kube\/config does not exist and KUBECONFIG is not set.*aws eks update-kubeconfig/,
    );
  });

  it('names an unknown --context and the contexts there are; and a kubeconfig without a current context', () => {
    const file = join(work, 'kubeconfig');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: kind-flotilla, context: {cluster: c, user: u}}]\n',
    );
    process.env.KUBECONFIG = file;
    expect(() => loadKubeConfig({ context: 'eks-prod' })).toThrow(
      'no context "eks-prod" in the kubeconfig (contexts: kind-flotilla)',
    );
    expect(() => loadKubeConfig()).toThrow(
      /no current context: pass --context <name> \(contexts: kind-flotilla\)/,
    );
    expect(loadKubeConfig({ context: 'kind-flotilla' }).getCurrentContext()).toBe('kind-flotilla');
  });

  it('parses the flags and refuses what it does not know', () => {
    expect(
      parseCommand(['deploy', 'dist/dev', '--no-wait', '--prune', '--context', 'x', '--timeout', '90s']),
    ).toEqual({
      context: 'x',
      options: { dir: 'dist/dev', dryRun: false, wait: false, prune: true, timeoutMs: 90_000 },
    });
    expect(parseCommand(['deploy', 'dist/dev']).options).toMatchObject({
      wait: true,
      prune: false,
      dryRun: false,
      timeoutMs: 300_000,
    });
    expect(() => parseCommand(['deploy'])).toThrow(/which environment\?/);
    expect(() => parseCommand(['apply', 'dist/dev'])).toThrow(/unknown command "apply"/);
    expect(() => parseCommand(['deploy', 'dist/dev', '--force'])).toThrow(UsageError);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('300')).toBe(300_000);
    expect(() => parseDuration('soon')).toThrow(/--timeout "soon" is not a duration/);
  });

  it('exits 2 with one line naming the problem when run on a missing environment', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await main(['deploy', join(repo, 'dist', 'nope')])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toMatch(
      /^flotilla deploy: no manifests folder \S*dist\/nope: run `make synth`[^\n]*\n$/,
    );
  });
});
