/**
 * The baseline of the synth benchmark: what a hand-written cdk8s-plus app produces for N services, one chart
 * per service with a Deployment, its Service and a CPU HPA, rendered to YAML like `render()` renders.
 */
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import { stringify } from 'yaml';

export function bareCdk8s(n: number): number {
  const app = new App();
  let documents = 0;
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    const chart = new Chart(app, name, { namespace: 'gen' });
    const deployment = new kplus.Deployment(chart, 'deployment', {
      containers: [{ image: `registry.example.com/gen/${name}:0.1.0`, portNumber: 8080 }],
    });
    deployment.exposeViaService({ ports: [{ port: 80, targetPort: 8080 }] });
    new kplus.HorizontalPodAutoscaler(chart, 'hpa', {
      target: deployment,
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(70))],
    });
    const docs = chart.toJson();
    documents += docs.length;
    docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
  }
  return documents;
}
