/**
 * The database URL of every service with `database: true`, always in a Secret named
 * `databaseSecretName(service)` under key `url` (what `envFor` references):
 * - kind: one PostgreSQL server (StatefulSet) with one database and one user per service, and the
 *   Secrets holding their URLs. The passwords are local-only values derived from the names, so that
 *   synthesis is reproducible; they guard nothing but a laptop cluster.
 * - EKS: an ExternalSecret per service that copies the URL from AWS Secrets Manager (e.g. an RDS
 *   connection string) into that Secret, through a ClusterSecretStore.
 * @see https://external-secrets.io/latest/provider/aws-secrets-manager/
 */
import { createHash } from 'node:crypto';
import { addon } from '../addons/index.js';
import { DATABASE_SECRET_KEY, databaseSecretName, type System } from '@flotilla/model';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { componentLabels } from '../labels.js';
import {
  componentContainerSecurityContext,
  componentPodSecurityContext,
  componentProbes,
} from './hardening.js';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
} from '../../imports/external-secrets.io.js';
import { LABEL, MANAGED_BY, POSTGRES } from '../environments/names.js';
import type { EksEnvironment, KindEnvironment } from '../environments/types.js';
import type { PolicyDocument } from './identity.js';

/** PostgreSQL image of kind clusters (the Alpine variant runs as UID 70). */
export const POSTGRES_IMAGE = 'postgres:17.6-alpine';
const POSTGRES_UID = 70;

/** Name of the ClusterSecretStore that reads AWS Secrets Manager. */
export const SECRET_STORE_NAME = 'aws-secrets-manager';

/** Where external-secrets runs (its Helm add-on) and the ServiceAccount of its controller. */
export const EXTERNAL_SECRETS = {
  namespace: addon('external-secrets').namespace,
  serviceAccount: 'external-secrets',
} as const;

/**
 * Secrets Manager secret holding a service's database connection: a JSON object with a `url` property.
 * @default `<system>/<env>/<service>/database`
 */
export function databaseSecretId(system: string, env: Pick<EksEnvironment, 'name'>, service: string): string {
  return `${system}/${env.name}/${service}/database`;
}

/** Services of the system that own a database. */
export function databaseServices(system: System): string[] {
  return system.services.filter((s) => s.database).map((s) => s.name);
}

/**
 * The external-secrets controller may read exactly the database secrets of the system's services.
 * Secrets Manager appends a random 6-character suffix to secret ARNs, hence the `-??????` pattern.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
 */
export function secretReaderPolicy(system: System, env: EksEnvironment): PolicyDocument | undefined {
  const services = databaseServices(system);
  if (services.length === 0) return undefined;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadDatabaseSecrets',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: services.map(
          (s) =>
            `arn:aws:secretsmanager:${env.region}:${env.accountId}:secret:${databaseSecretId(system.name, env, s)}-??????`,
        ),
      },
    ],
  };
}

/** A local-only password, stable across synth runs so `dist/` stays byte-identical. */
export function localPassword(system: string, env: Pick<KindEnvironment, 'name'>, user: string): string {
  return `local-${createHash('sha256').update(`flotilla-local/${system}/${env.name}/${user}`).digest('hex').slice(0, 24)}`;
}

/** Props of {@link LocalPostgres}. */
export interface LocalPostgresProps {
  readonly system: System;
  readonly environment: KindEnvironment;
  /**
   * Size of the data volume.
   * @default '1Gi'
   * @see https://kubernetes.io/docs/concepts/storage/persistent-volumes/
   */
  readonly storage?: string;
}

/** One PostgreSQL server for a kind cluster, with a database, a user and a URL Secret per service. */
export class LocalPostgres extends Construct {
  constructor(scope: Construct, id: string, props: LocalPostgresProps) {
    super(scope, id);
    const env = props.environment;
    const services = databaseServices(props.system);
    if (services.length === 0) return;
    const name = POSTGRES.name;
    const ns = env.namespace;
    const { labels, selector } = componentLabels(props.system.name, name, 'database');
    const host = `${name}.${ns}.svc.cluster.local`;

    const ident = (s: string) => s.replace(/-/g, '_');
    const initSql = services
      .map((s) => {
        const user = ident(s);
        return `CREATE USER ${user} WITH PASSWORD '${localPassword(props.system.name, env, s)}';\nCREATE DATABASE ${user} OWNER ${user};\n`;
      })
      .join('');
    new ApiObject(this, 'Init', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-init`, namespace: ns, labels },
      type: 'Opaque',
      stringData: { 'init.sql': initSql, password: localPassword(props.system.name, env, 'postgres') },
    });
    for (const s of services) {
      const user = ident(s);
      new ApiObject(this, `secret-${s}`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: databaseSecretName(s), namespace: ns, labels: { ...labels, [LABEL.instance]: s } },
        type: 'Opaque',
        stringData: {
          [DATABASE_SECRET_KEY]: `postgres://${user}:${localPassword(props.system.name, env, s)}@${host}:${POSTGRES.port}/${user}`,
        },
      });
    }
    new ApiObject(this, 'Service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'postgres', port: POSTGRES.port, targetPort: 'postgres', protocol: 'TCP' }],
      },
    });
    new ApiObject(this, 'StatefulSet', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace: ns, labels },
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: componentPodSecurityContext(POSTGRES_UID, true),
            containers: [
              {
                name: 'postgres',
                image: POSTGRES_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                env: [
                  {
                    name: 'POSTGRES_PASSWORD',
                    valueFrom: { secretKeyRef: { name: `${name}-init`, key: 'password' } },
                  },
                  // A subdirectory: the volume's root holds lost+found, which initdb refuses.
                  { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
                ],
                ports: [{ name: 'postgres', containerPort: POSTGRES.port, protocol: 'TCP' }],
                ...componentProbes({
                  exec: { command: ['pg_isready', '-U', 'postgres', '-h', '127.0.0.1'] },
                  periodSeconds: 10,
                }),
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
                securityContext: componentContainerSecurityContext(),
                volumeMounts: [
                  { name: 'data', mountPath: '/var/lib/postgresql/data' },
                  { name: 'init', mountPath: '/docker-entrypoint-initdb.d', readOnly: true },
                  { name: 'run', mountPath: '/var/run/postgresql' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              {
                name: 'init',
                secret: { secretName: `${name}-init`, items: [{ key: 'init.sql', path: 'init.sql' }] },
              },
              { name: 'run', emptyDir: {} },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: props.storage ?? '1Gi' } },
            },
          },
        ],
      },
    });
  }
}

/** Props of {@link ExternalDatabaseSecrets}. */
export interface ExternalDatabaseSecretsProps {
  readonly system: System;
  readonly environment: EksEnvironment;
  /**
   * How often external-secrets re-reads each secret (picks up rotated passwords).
   * @default '1h'
   * @see https://external-secrets.io/latest/api/externalsecret/
   */
  readonly refreshInterval?: string;
}

/** A ClusterSecretStore for AWS Secrets Manager and one ExternalSecret per service with a database. */
export class ExternalDatabaseSecrets extends Construct {
  constructor(scope: Construct, id: string, props: ExternalDatabaseSecretsProps) {
    super(scope, id);
    const env = props.environment;
    const services = databaseServices(props.system);
    if (services.length === 0) return;
    // No auth block: the controller's own identity (Pod Identity or IRSA on its ServiceAccount), which
    // `secretReaderPolicy` limits to this system's database secrets.
    new ApiObject(this, 'Store', {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ClusterSecretStore',
      metadata: { name: SECRET_STORE_NAME, labels: { [LABEL.managedBy]: MANAGED_BY } },
      spec: {
        provider: { aws: { service: 'SecretsManager', region: env.region } },
        conditions: [{ namespaces: [env.namespace] }],
      },
    });
    for (const s of services) {
      new ExternalSecret(this, `secret-${s}`, {
        metadata: {
          name: databaseSecretName(s),
          namespace: env.namespace,
          labels: { [LABEL.instance]: s, [LABEL.managedBy]: MANAGED_BY },
        },
        spec: {
          refreshInterval: props.refreshInterval ?? '1h',
          secretStoreRef: {
            kind: ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE,
            name: SECRET_STORE_NAME,
          },
          target: {
            name: databaseSecretName(s),
            creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER,
          },
          data: [
            {
              secretKey: DATABASE_SECRET_KEY,
              remoteRef: { key: databaseSecretId(props.system.name, env, s), property: 'url' },
            },
          ],
        },
      });
    }
  }
}
