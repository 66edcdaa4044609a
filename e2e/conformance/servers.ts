/**
 * etcd and kube-apiserver as child processes on loopback, on ephemeral ports, with the run's certificates.
 * The API server runs its default admission chain (Pod Security Admission included) and RBAC; no
 * controller-manager, scheduler or kubelet runs, so nothing reconciles: objects are validated, admitted
 * and stored, which is what conformance checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RunCertificates } from './certs.js';

/** A started server. */
export interface RunningServer {
  readonly name: string;
  readonly url: string;
  readonly log: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (bound and released; the server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function start(
  name: string,
  binary: string,
  args: readonly string[],
  log: string,
  url: string,
): RunningServer {
  const out = createWriteStream(log);
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  return {
    name,
    url,
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/** Starts etcd (TLS for clients, client certificates required), data in `dir`. */
export async function startEtcd(binary: string, dir: string, certs: RunCertificates): Promise<RunningServer> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `https://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const server = start(
    'etcd',
    binary,
    [
      '--name=conformance',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=conformance=${peerUrl}`,
      `--cert-file=${certs.etcdServer.cert}`,
      `--key-file=${certs.etcdServer.key}`,
      `--trusted-ca-file=${certs.ca}`,
      '--client-cert-auth',
      // A throw-away store: no fsync, so a loaded CI machine does not wait on the disk.
      '--unsafe-no-fsync',
    ],
    join(dir, 'etcd.log'),
    url,
  );
  await waitHealthy(server, `${url}/health`, { ca: certs.ca, ...certs.etcdClient }, 60_000);
  return server;
}

/** Starts kube-apiserver against etcd, its objects under `etcdPrefix` (one prefix = one fresh cluster). */
export async function startApiServer(
  binary: string,
  dir: string,
  certs: RunCertificates,
  etcd: RunningServer,
  etcdPrefix: string,
): Promise<RunningServer> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const server = start(
    'kube-apiserver',
    binary,
    [
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--etcd-servers=${etcd.url}`,
      `--etcd-prefix=${etcdPrefix}`,
      `--etcd-cafile=${certs.ca}`,
      `--etcd-certfile=${certs.etcdClient.cert}`,
      `--etcd-keyfile=${certs.etcdClient.key}`,
      `--tls-cert-file=${certs.apiServer.cert}`,
      `--tls-private-key-file=${certs.apiServer.key}`,
      `--client-ca-file=${certs.ca}`,
      `--service-account-issuer=https://kubernetes.default.svc`,
      `--service-account-key-file=${certs.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${certs.serviceAccountKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=RBAC',
      // As on EKS: privileged containers are allowed by the server, so refusing them is Pod Security's job.
      '--allow-privileged=true',
      // The default chain plus PodSecurity stated explicitly: what conformance proves depends on it.
      '--enable-admission-plugins=PodSecurity',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      '--profiling=false',
    ],
    join(dir, `kube-apiserver${etcdPrefix.replaceAll('/', '-')}.log`),
    url,
  );
  await waitHealthy(server, `${url}/readyz`, { ca: certs.ca, ...certs.admin }, 180_000);
  return server;
}

function get(url: string, tls: { ca: string; cert: string; key: string }): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key), timeout: 5_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitHealthy(
  server: RunningServer,
  url: string,
  tls: { ca: string; cert: string; key: string },
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await get(url, tls)) === 200) return;
    await new Promise((done) => setTimeout(done, 500));
  }
  await server.stop();
  const tail = readFileSync(server.log, 'utf8').trim().split('\n').slice(-20).join('\n');
  throw new Error(
    `${server.name} did not become ready at ${url} within ${timeoutMs / 1000}s; the end of its log:\n${tail}`,
  );
}

/** A kubeconfig whose one context ("conformance") is the administrator on the API server. */
export function writeKubeconfig(path: string, server: RunningServer, certs: RunCertificates): string {
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'conformance', cluster: { server: server.url, 'certificate-authority': certs.ca } }],
      users: [
        { name: 'admin', user: { 'client-certificate': certs.admin.cert, 'client-key': certs.admin.key } },
      ],
      contexts: [{ name: 'conformance', context: { cluster: 'conformance', user: 'admin' } }],
      'current-context': 'conformance',
    }),
  );
  return path;
}
