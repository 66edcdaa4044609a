/**
 * `@flotilla/charts`: the system model rendered as Kubernetes manifests. `render`/`synth` turn a system
 * into `dist/<env>/` for every environment; the constructs and environment definitions are exported for
 * a system that composes its own charts.
 */
export {
  render,
  renderDocuments,
  synth,
  toYaml,
  type RenderedDocuments,
  type RenderedManifests,
} from './main.js';
export { buildEnvironmentCharts, type EnvironmentChart } from './system-chart.js';
export { addPlatformResources, type PlatformResourcesContext } from './platform-resources.js';
export * from './environments/index.js';
export * from './addons/index.js';
export * from './labels.js';
export * from './shutdown.js';
export * from './iam-json.js';
export * from './constructs/argocd.js';
export * from './constructs/autoscaling.js';
export * from './constructs/cloudmap.js';
export * from './constructs/database.js';
export * from './constructs/emulator.js';
export * from './constructs/identity.js';
export * from './constructs/ingress.js';
export * from './constructs/logging.js';
export * from './constructs/messaging.js';
export * from './constructs/microservice.js';
export * from './constructs/namespace.js';
export * from './constructs/network-policies.js';
export * from './constructs/otel-collector.js';
export * from './constructs/collector-distribution.js';
