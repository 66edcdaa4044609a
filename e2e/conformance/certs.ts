/**
 * Certificates for one conformance run, made with the `openssl` command: a CA, serving certificates for
 * etcd and kube-apiserver on loopback, client certificates (the API server's to etcd, an administrator's
 * to the API server) and the service-account signing key. Nothing is reused between runs.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of the generated files. */
export interface RunCertificates {
  readonly ca: string;
  readonly etcdServer: KeyPair;
  readonly etcdClient: KeyPair;
  readonly apiServer: KeyPair;
  readonly admin: KeyPair;
  /** Service-account token signing key (private) and its public half. */
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
}

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

function openssl(args: readonly string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new Error(
        'conformance needs the `openssl` command to make its certificates: install it (Debian: apt-get install openssl)',
        { cause: error },
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`, {
      cause: error,
    });
  }
}

/** Issues a key and a certificate signed by the run's CA. */
function issue(dir: string, name: string, subject: string, extensions: string): KeyPair {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', subject, '-out', csr]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { cert, key };
}

const LOOPBACK_SERVER =
  'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n';
const CLIENT =
  'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

/** Generates every certificate of a run into `dir`. @throws naming openssl when it is missing */
export function generateCertificates(dir: string): RunCertificates {
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=flotilla-conformance-ca',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
  ]);
  const serviceAccountKey = join(dir, 'sa.key');
  const serviceAccountPublicKey = join(dir, 'sa.pub');
  openssl(['genrsa', '-out', serviceAccountKey, '2048']);
  openssl(['rsa', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPublicKey]);
  return {
    ca: join(dir, 'ca.crt'),
    etcdServer: issue(dir, 'etcd-server', '/CN=etcd', LOOPBACK_SERVER),
    etcdClient: issue(dir, 'etcd-client', '/CN=kube-apiserver-etcd-client', CLIENT),
    apiServer: issue(dir, 'apiserver', '/CN=kube-apiserver', LOOPBACK_SERVER),
    // system:masters: the administrator a kubeconfig of a fresh cluster holds.
    admin: issue(dir, 'admin', '/O=system:masters/CN=flotilla-conformance-admin', CLIENT),
    serviceAccountKey,
    serviceAccountPublicKey,
  };
}
