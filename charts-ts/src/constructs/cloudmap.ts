/**
 * AWS Cloud Map discovery: with `discovery.method: 'cloudmap'`, a `ServiceExport` per service tells the
 * AWS Cloud Map MCS controller to register the Service's endpoints in the environment's Cloud Map
 * namespace, where peers find them with `DiscoverInstances` (the runtime's `cloudmap` discovery).
 * @see https://github.com/aws/aws-cloud-map-mcs-controller-for-k8s
 */
import type { System } from '@flotilla/model';
import { Construct } from 'constructs';
import { ServiceExport } from '../../imports/multicluster.x-k8s.io.js';
import { LABEL, MANAGED_BY } from '../environments/names.js';
import type { FlotillaEnvironment } from '../environments/types.js';

/** Props of {@link CloudMapExports}. */
export interface CloudMapExportsProps {
  readonly system: System;
  readonly environment: FlotillaEnvironment;
}

/** One ServiceExport per service, named like the service (the MCS API requires the same name). */
export class CloudMapExports extends Construct {
  constructor(scope: Construct, id: string, props: CloudMapExportsProps) {
    super(scope, id);
    const env = props.environment;
    if (env.runtime.discovery.method !== 'cloudmap') return;
    for (const service of props.system.services) {
      new ServiceExport(this, service.name, {
        metadata: {
          name: service.name,
          namespace: env.namespace,
          labels: {
            [LABEL.name]: service.name,
            [LABEL.partOf]: props.system.name,
            [LABEL.managedBy]: MANAGED_BY,
          },
        },
      });
    }
  }
}
