/**
 * `make conformance` builds kube-apiserver and etcd from Go modules; a machine that cannot must fail the
 * target with a message naming what is missing and how to get it, never pass by skipping.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../conformance/build-tools.sh', import.meta.url));
const goMod = readFileSync(fileURLToPath(new URL('../conformance/tools/go.mod', import.meta.url)), 'utf8');

describe('conformance tools', () => {
  it('fails naming Go and where to get it when there is no go on PATH and nothing cached', () => {
    const cache = mkdtempSync(join(tmpdir(), 'flotilla-tools-'));
    try {
      const result = spawnSync('bash', [script], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin', HOME: cache, FLOTILLA_CACHE: cache },
      });
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /needs Go >= 1\.26\.0, and there is no 'go' on PATH: install it from https:\/\/go\.dev\/dl\//,
      );
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('pins every k8s.io staging module to the release matching k8s.io/kubernetes', () => {
    const kube = /^\s*k8s\.io\/kubernetes (v1\.(\d+)\.(\d+))$/m.exec(goMod);
    expect(kube).not.toBeNull();
    const staging = [...goMod.matchAll(/^\s*(k8s\.io\/[a-z-]+) => \1 (v\S+)$/gm)];
    expect(staging.length).toBeGreaterThan(30);
    expect(new Set(staging.map((m) => m[2]))).toEqual(new Set([`v0.${kube![2]}.${kube![3]}`]));
  });

  it('builds the same Kubernetes release whose schema make test validates the newest minor against', () => {
    const kube = /^\s*k8s\.io\/kubernetes (v1\.(\d+)\.\d+)$/m.exec(goMod)!;
    const schemaFile = fileURLToPath(
      new URL(`../../charts-ts/schemas/kubernetes-1.${kube[2]}.json`, import.meta.url),
    );
    const { source } = JSON.parse(readFileSync(schemaFile, 'utf8')) as { source: string };
    expect(source.split(' ')[0]).toBe(`k8s.io/kubernetes@${kube[1]}`);
  });
});
