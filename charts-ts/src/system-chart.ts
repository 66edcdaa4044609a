/**
 * One environment of a system as cdk8s charts, one chart per output file. File names carry an order
 * prefix because `kubectl apply -f <dir>` applies files alphabetically: the namespace goes first.
 */
import type { System } from '@flotilla/model';
import { App, Chart } from 'cdk8s';
import { SystemIngress } from './constructs/ingress.js';
import { Microservice } from './constructs/microservice.js';
import { SystemNamespace } from './constructs/namespace.js';
import { SystemNetworkPolicies } from './constructs/network-policies.js';
import type { FlotillaEnvironment } from './environments/types.js';
import { addPlatformResources } from './platform-resources.js';

/** A chart and the file (relative to `dist/<env>/`) it is written to. */
export interface EnvironmentChart {
  readonly file: string;
  readonly chart: Chart;
}

/** Builds every chart of one environment, each in a fresh cdk8s App. */
export function buildEnvironmentCharts(system: System, env: FlotillaEnvironment): EnvironmentChart[] {
  const charts: EnvironmentChart[] = [];
  // One App per chart: `chart.toJson()` resolves and validates the chart's whole App, so charts sharing
  // one App make rendering quadratic in the number of services. Charts reference each other only by name
  // (labels, Service names), never by construct, so nothing is lost. No outdir: charts are rendered in
  // memory and written only when every environment succeeded. `disableResourceNameHashes` keeps cdk8s
  // from ever appending a hash suffix to a name we forgot to set (every object sets its name).
  const chart = (id: string, file: string) => {
    const c = new Chart(new App(), id, { disableResourceNameHashes: true });
    charts.push({ file, chart: c });
    return c;
  };

  new SystemNamespace(chart('namespace', '00-namespace.k8s.yaml'), 'Namespace', {
    name: env.namespace,
    labels: { 'app.kubernetes.io/part-of': system.name },
    albReadinessGates: env.platform === 'eks',
    kubernetesVersion: env.kubernetesVersion,
  });
  addPlatformResources(chart('platform', '10-platform.k8s.yaml'), { system, environment: env });
  new SystemNetworkPolicies(chart('network-policies', '20-network-policies.k8s.yaml'), 'Policies', {
    system,
    environment: env,
  });
  for (const service of system.services) {
    new Microservice(chart(`service-${service.name}`, `30-service-${service.name}.k8s.yaml`), 'Service', {
      system,
      service,
      environment: env,
    });
  }
  new SystemIngress(chart('ingress', '40-ingress.k8s.yaml'), 'Ingress', { system, environment: env });
  return charts;
}
