/**
 * kind needs Docker, which these machines lack; what can be checked without it is checked here: the
 * scripts parse, pass shellcheck (CI installs it), and the cluster config spreads workers over two zones.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const kindDir = fileURLToPath(new URL('../../platform/kind/', import.meta.url));
const scripts = readdirSync(kindDir).filter((f) => f.endsWith('.sh'));
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

describe('platform/kind', () => {
  it.each(scripts)('%s is valid bash', (script) => {
    expect(() => execFileSync('bash', ['-n', `${kindDir}${script}`])).not.toThrow();
  });

  // CI installs shellcheck (.ci/run); elsewhere the check runs when it is present.
  (hasShellcheck || process.env.CI ? it : it.skip)('passes shellcheck', () => {
    const result = spawnSync('shellcheck', ['-x', ...scripts], { cwd: kindDir, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('creates an ingress-ready control plane and workers in two zones', () => {
    const cluster = parse(readFileSync(`${kindDir}cluster.yaml`, 'utf8')) as {
      nodes: { role: string; labels?: Record<string, string>; extraPortMappings?: { hostPort: number }[] }[];
    };
    const control = cluster.nodes.find((n) => n.role === 'control-plane')!;
    expect(control.extraPortMappings?.map((p) => p.hostPort)).toEqual([80, 443]);
    const zones = cluster.nodes
      .filter((n) => n.role === 'worker')
      .map((n) => n.labels?.['topology.kubernetes.io/zone']);
    expect(new Set(zones).size).toBe(2);
  });

  it('installs a controller for every custom resource group that dist/local uses', () => {
    const dist = fileURLToPath(new URL('../../dist/local/', import.meta.url));
    const groups = new Set(
      readdirSync(dist)
        .filter((f) => f.endsWith('.yaml'))
        .flatMap((f) => [
          ...readFileSync(`${dist}${f}`, 'utf8').matchAll(/^apiVersion: ([a-z0-9.-]+)\/[a-z0-9]+$/gm),
        ])
        .map((m) => m[1]!)
        .filter((group) => group.includes('.') && !group.endsWith('k8s.io')),
    );
    expect([...groups]).toEqual(['keda.sh']);
    const up = readFileSync(`${kindDir}up.sh`, 'utf8');
    expect(up).toMatch(/kedacore\/keda\/releases\/download/);
  });
});
