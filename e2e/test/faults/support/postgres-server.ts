/**
 * A PostgreSQL server of the fault suite's own, from the binaries of the machine's PostgreSQL (Debian's
 * `postgresql`, which .ci/run installs): a fresh cluster in a temporary directory on a free port, that a
 * scenario may restart or stop as it likes without touching the server other tests use.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from '@jest/globals';
import pg from 'pg';
import { freePort } from './util.js';

/** Where `initdb` and `postgres` are: FLOTILLA_PG_BIN, `pg_config --bindir`, or the newest /usr/lib/postgresql/<v>/bin. */
export function findPostgresBinaries(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  const fromEnv = process.env.FLOTILLA_PG_BIN;
  if (fromEnv) return has(fromEnv) ? fromEnv : undefined;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (has(dir)) return dir;
  } catch {
    // no pg_config on PATH: look where Debian installs the server
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => has(join(root, v, 'bin')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user the package creates. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      "The fault suite runs as root, and PostgreSQL refuses to: it needs the `postgres` user that Debian's " +
        'postgresql package creates (apt-get install postgresql), or run the tests as another user.',
    );
  }
}

export class PostgresServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: (line: string) => void = () => undefined;

  private constructor(
    private readonly bin: string,
    private readonly root: string,
    readonly port: number,
    private readonly user: { uid: number; gid: number } | undefined,
  ) {}

  /** Where the server's own log lines go (e.g. the scenario's log file). */
  onLine(sink: (line: string) => void): void {
    this.log = sink;
  }

  /** `postgres://flotilla@127.0.0.1:<port>/postgres`: a superuser, trusted on 127.0.0.1 only. */
  get url(): string {
    return `postgres://flotilla@127.0.0.1:${this.port}/postgres`;
  }

  /** initdb in a temporary directory, then starts the server; resolves when it accepts connections. */
  static async start(bin: string): Promise<PostgresServer> {
    const user = serverUser();
    const root = await mkdtemp(join(tmpdir(), 'flotilla-faults-pg-'));
    if (user) await chown(root, user.uid, user.gid);
    const server = new PostgresServer(bin, root, await freePort(), user);
    await server.run('initdb', [
      '-D',
      server.dataDir,
      '-U',
      'flotilla',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await server.boot();
    return server;
  }

  private get dataDir(): string {
    return join(this.root, 'data');
  }

  private run(tool: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(join(this.bin, tool), args, { ...this.user, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d));
      child.stderr.on('data', (d: Buffer) => (output += d));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`${tool} failed (exit code ${code}):\n${output}`)),
      );
    });
  }

  /** Starts the server process (on the same port and data) and waits until it accepts connections. */
  private async boot(): Promise<void> {
    const child = spawn(
      join(this.bin, 'postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${this.root}`,
        // A test server: durability is not the point, speed on a loaded machine is.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ],
      { ...this.user, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (d: Buffer) =>
        d
          .toString()
          .split('\n')
          .filter(Boolean)
          .forEach((l) => this.log(`postgres ${l}`)),
      );
    }
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (err) {
        await client.end().catch(() => undefined);
        if (child.exitCode !== null)
          throw new Error(`postgres exited at start (code ${child.exitCode}); see its log lines`, {
            cause: err,
          });
        if (Date.now() > deadline)
          throw new Error(`postgres did not accept connections in 60 s: ${(err as Error).message}`, {
            cause: err,
          });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /**
   * Restarts the server the way an operator or a failover does: a fast shutdown (every session is ended,
   * open transactions roll back), `downMs` with nothing listening, then the same cluster starts again.
   */
  async restart(downMs: number): Promise<void> {
    await this.shutdown();
    await new Promise((r) => setTimeout(r, downMs));
    await this.boot();
  }

  /** Fast shutdown: SIGINT. @see https://www.postgresql.org/docs/current/server-shutdown.html */
  private async shutdown(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGINT');
    await this.exited;
  }

  async stop(): Promise<void> {
    await this.shutdown();
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * Declares the scenarios that need a PostgreSQL server (two processes sharing a database, a server
 * restart, row locks): they run on a server of their own when the machine has PostgreSQL's binaries, are
 * skipped with a message when not, and fail then under FLOTILLA_REQUIRE_PG_TIER=1 (CI, see .ci/run).
 */
export function describePostgresTier(title: string, body: (bin: string) => void): void {
  const bin = findPostgresBinaries();
  if (bin) return describe(`${title} [postgres]`, () => body(bin));
  describe(`${title} [postgres]`, () => {
    if (process.env.FLOTILLA_REQUIRE_PG_TIER === '1') {
      test('the Postgres tier has PostgreSQL', () => {
        throw new Error(
          'FLOTILLA_REQUIRE_PG_TIER=1 but no PostgreSQL server binaries (initdb, postgres) were found: install ' +
            "Debian's postgresql (.ci/run does), or point FLOTILLA_PG_BIN at their directory.",
        );
      });
    } else {
      test.skip('Postgres tier skipped: no PostgreSQL binaries (install postgresql, or set FLOTILLA_PG_BIN)', () =>
        undefined);
    }
  });
}
