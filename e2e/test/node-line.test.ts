/**
 * One Node line for the whole project: `.nvmrc` holds its exact version; `engines`, `@types/node`, the
 * images and the Node that runs these very tests follow it; and `scripts/node-line.sh` (which the
 * Makefile runs) brings that Node when the machine's is older.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const nvmrc = readFileSync(join(repo, '.nvmrc'), 'utf8').trim();
const major = Number(nvmrc.split('.')[0]);
const rootPackage = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  workspaces: string[];
};

describe("the project's Node line", () => {
  it('is one exact version of an LTS line (even major), 24 or newer', () => {
    expect(nvmrc).toMatch(/^\d+\.\d+\.\d+$/);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(24);
  });

  it('is what engines.node states, in the root and in every workspace that states one', () => {
    expect(rootPackage.engines.node).toBe(`>=${major}`);
    for (const workspace of rootPackage.workspaces) {
      const pkg = JSON.parse(readFileSync(join(repo, workspace, 'package.json'), 'utf8')) as {
        engines?: { node?: string };
      };
      if (pkg.engines?.node !== undefined)
        expect(`${workspace} ${pkg.engines.node}`).toBe(`${workspace} >=${major}`);
    }
  });

  it("types the code for that line's Node API (@types/node of the same major)", () => {
    expect(rootPackage.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${major}\\.`));
  });

  it('runs these tests (make test puts it first on PATH when the machine has an older Node)', () => {
    expect(process.versions.node.split('.')[0]).toBe(String(major));
  });
});

describe('scripts/node-line.sh', () => {
  /** A copy of the script beside a chosen .nvmrc, a stub `node` reporting `machineNode`, and a cache. */
  function sandbox(machineNode: string | undefined, version = nvmrc) {
    const dir = mkdtempSync(join(tmpdir(), 'node-line-'));
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(repo, 'scripts/node-line.sh'), join(dir, 'scripts/node-line.sh'));
    writeFileSync(join(dir, '.nvmrc'), `${version}\n`);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    if (machineNode !== undefined) {
      writeFileSync(join(bin, 'node'), `#!/bin/sh\necho v${machineNode}\n`);
      chmodSync(join(bin, 'node'), 0o755);
    }
    const cache = join(dir, 'cache');
    const run = () =>
      spawnSync('bash', [join(dir, 'scripts/node-line.sh')], {
        encoding: 'utf8',
        // The stubs first: a test that puts no npm there gets the machine's, which runs the stub node.
        env: { PATH: `${bin}:/usr/bin:/bin`, FLOTILLA_CACHE: cache, HOME: dir },
      });
    return { bin, cache, run };
  }

  /** Puts a fetched Node of `version` into the sandbox's cache, as a fetch leaves it. */
  function cached(cache: string, version: string): string {
    const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
    const dir = join(cache, 'node', `${version}-linux-${arch}`, 'bin');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'node'), `#!/bin/sh\necho v${version}\n`);
    chmodSync(join(dir, 'node'), 0o755);
    return dir;
  }

  it("prints nothing when the machine's node is on the line (the machine's Node is used)", () => {
    const [, minor, patch] = nvmrc.split('.').map(Number);
    for (const machine of [nvmrc, `${major}.${minor}.${patch! + 1}`, `${major}.${minor! + 1}.0`]) {
      const result = sandbox(machine).run();
      expect(`${machine}: ${result.status} ${result.stdout}${result.stderr}`).toBe(`${machine}: 0 `);
    }
  });

  it("uses the cached Node of .nvmrc's version when the machine's is older, newer-major or missing", () => {
    for (const machine of ['20.20.2', `${major}.0.0`, `${major + 2}.1.0`, undefined]) {
      const { cache, run } = sandbox(machine);
      const bin = cached(cache, nvmrc);
      const result = run();
      expect(`${machine}: ${result.status} ${result.stdout.trim()} ${result.stderr}`).toBe(
        `${machine}: 0 ${bin} `,
      );
    }
  });

  it('fails naming the package and the registry when the fetch fails, and prints no path', () => {
    const { bin, run } = sandbox('20.20.2');
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\necho "npm error code ECONNREFUSED" >&2\nexit 1\n');
    chmodSync(join(bin, 'npm'), 0o755);
    const result = run();
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('npm error code ECONNREFUSED');
    expect(result.stderr).toMatch(
      new RegExp(`'npm pack node-linux-(x64|arm64)@${nvmrc.replaceAll('.', '\\.')}' failed`),
    );
  });

  it('rejects a .nvmrc that is not one exact version', () => {
    const result = sandbox('20.20.2', 'lts/*').run();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(".nvmrc must hold one exact version such as 24.22.3, not 'lts/*'");
  });

  (spawnSync('shellcheck', ['--version']).status === 0 || process.env.CI ? it : it.skip)(
    'passes shellcheck',
    () => {
      const result = spawnSync('shellcheck', [join(repo, 'scripts/node-line.sh')], { encoding: 'utf8' });
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );
});
