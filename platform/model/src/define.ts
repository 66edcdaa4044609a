import type {
  ResolvedSubscription,
  Service,
  ServiceDefinition,
  Subscription,
  System,
  SystemDefinition,
  Topic,
  TopicDefinition,
} from './types.js';
import { retryPolicy, SUBSCRIPTION_DEFAULTS } from './subscription.js';
import { ModelError, validateSystem } from './validate.js';

/** Declares one service. Returns the definition unchanged: validation happens in {@link defineSystem}. */
export function defineService<const T extends ServiceDefinition>(definition: T): T {
  return definition;
}

/** Declares one topic. */
export function defineTopic<const T extends TopicDefinition>(definition: T): T {
  return definition;
}

/** Defaults applied to every service; documented on {@link ServiceDefinition}. */
const SERVICE_DEFAULTS = {
  replicas: { min: 2, max: 10 },
  resources: { cpu: { request: '100m' }, memory: { request: '192Mi', limit: '256Mi' } },
  cpuTargetUtilization: 70,
  messagesPerReplica: 20,
} as const;

/**
 * Validates a system and applies every default. Throws one {@link ModelError} listing every problem
 * (not only the first), each naming the service, the field and the fix.
 */
export function defineSystem(definition: SystemDefinition): System {
  const problems = validateSystem(definition);
  if (problems.length > 0) throw new ModelError(definition.name, problems);
  const services = definition.services.map(resolveService);
  const topics = definition.topics.map((t): Topic => ({ description: '', ...t }));
  return {
    name: definition.name,
    services,
    topics,
    service: finder(definition.name, 'service', services),
    topic: finder(definition.name, 'topic', topics),
  };
}

/**
 * Whether a value is a system made by {@link defineSystem} (e.g. an export of a system module), as
 * opposed to a plain {@link SystemDefinition} or anything else.
 */
export function isSystem(value: unknown): value is System {
  return (
    !!value &&
    typeof value === 'object' &&
    Array.isArray((value as System).services) &&
    typeof (value as System).service === 'function'
  );
}

/** Looks an item up by name; an unknown name throws, listing the known ones. */
function finder<T extends { readonly name: string }>(
  system: string,
  kind: 'service' | 'topic',
  items: readonly T[],
): (name: string) => T {
  const byName = new Map(items.map((i) => [i.name, i]));
  return (name) => {
    const found = byName.get(name);
    if (!found)
      throw new Error(
        `system "${system}" has no ${kind} "${name}" (${kind}s: ${[...byName.keys()].join(', ')})`,
      );
    return found;
  };
}

function resolveService(def: ServiceDefinition): Service {
  const d = SERVICE_DEFAULTS;
  const scaling =
    def.scaling?.kind === 'queue'
      ? { kind: 'queue' as const, messagesPerReplica: def.scaling.messagesPerReplica ?? d.messagesPerReplica }
      : { kind: 'cpu' as const, targetUtilization: def.scaling?.targetUtilization ?? d.cpuTargetUtilization };
  return {
    name: def.name,
    description: def.description ?? '',
    port: def.port,
    routes: def.routes ?? [],
    calls: def.calls ?? [],
    publishes: def.publishes ?? [],
    sends: def.sends ?? [],
    consumes: (def.consumes ?? []).map(resolveSubscription),
    database: def.database ?? false,
    resources: {
      cpu: def.resources?.cpu ?? d.resources.cpu,
      memory: def.resources?.memory ?? d.resources.memory,
    },
    scaling,
    replicas: def.replicas ?? d.replicas,
    image: def.image ?? def.name,
  };
}

function resolveSubscription(s: Subscription): ResolvedSubscription {
  const retryWindowMinutes = s.retryWindowMinutes ?? SUBSCRIPTION_DEFAULTS.retryWindowMinutes;
  const visibilityTimeoutSeconds =
    s.visibilityTimeoutSeconds ?? SUBSCRIPTION_DEFAULTS.visibilityTimeoutSeconds;
  const common = {
    retryWindowMinutes,
    maxReceiveCount: retryPolicy(retryWindowMinutes).maxReceiveCount,
    visibilityTimeoutSeconds,
    handlerTimeoutSeconds: s.handlerTimeoutSeconds ?? visibilityTimeoutSeconds,
  };
  if ('topic' in s) {
    return {
      kind: 'topic',
      key: s.topic,
      topic: s.topic,
      ...(s.events ? { events: s.events } : {}),
      ...common,
    };
  }
  return { kind: 'queue', key: s.queue, ...(s.commands ? { events: s.commands } : {}), ...common };
}
