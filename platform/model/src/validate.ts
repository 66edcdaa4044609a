import type { ServiceDefinition, SystemDefinition } from './types.js';
import { dlqName, MAX_QUEUE_NAME_LENGTH } from './names.js';
import { MAX_RETRY_WINDOW_MINUTES, MAX_VISIBILITY_SECONDS, SUBSCRIPTION_DEFAULTS } from './subscription.js';

/** One thing wrong with a model: where it is, what is wrong, and how to fix it. */
export interface ModelProblem {
  /** e.g. `service "orders"` or `topic "orders"` or `system "shop"`. */
  readonly where: string;
  /** e.g. `calls[0]`. */
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

/** Thrown by `defineSystem` with every problem of the model at once. */
export class ModelError extends Error {
  constructor(
    readonly system: string,
    readonly problems: readonly ModelProblem[],
  ) {
    super(
      `system "${system}" has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p.where}, ${p.field}: ${p.message}. Fix: ${p.fix}`).join('\n'),
    );
    this.name = 'ModelError';
  }
}

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const EVENT_TYPE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
/**
 * The model has no environments, so names are checked early against the longest environment name we ship
 * (`local`); `messagingResources` checks the real names of each environment.
 */
const LONGEST_ENV_NAME = 'local';

/** Every problem of a system definition, in declaration order. Empty when the model is valid. */
export function validateSystem(def: SystemDefinition): ModelProblem[] {
  const problems: ModelProblem[] = [];
  const add = (where: string, field: string, message: string, fix: string) =>
    problems.push({ where, field, message, fix });
  const sys = `system "${def.name}"`;

  if (!isDnsLabel(def.name)) add(sys, 'name', `"${def.name}" is not a DNS-1035 label`, dnsFix());
  checkUnique(
    def.services.map((s) => s.name),
    (n) => add(`service "${n}"`, 'name', 'is declared more than once', 'give each service a unique name'),
  );
  checkUnique(
    def.topics.map((t) => t.name),
    (n) => add(`topic "${n}"`, 'name', 'is declared more than once', 'give each topic a unique name'),
  );

  const serviceNames = new Set(def.services.map((s) => s.name));
  const topics = new Map(def.topics.map((t) => [t.name, t]));
  const published = new Set(def.services.flatMap((s) => s.publishes ?? []));

  for (const t of def.topics) {
    const where = `topic "${t.name}"`;
    if (!isDnsLabel(t.name)) add(where, 'name', `"${t.name}" is not a DNS-1035 label`, dnsFix());
    if (t.events.length === 0)
      add(
        where,
        'events',
        'lists no event types',
        'name the event types that travel on it, e.g. "order.placed"',
      );
    t.events.forEach((e, i) => {
      if (!EVENT_TYPE.test(e))
        add(
          where,
          `events[${i}]`,
          `"${e}" is not a dotted lower-case event type`,
          'use "<entity>.<past-tense-verb>", e.g. "order.placed"',
        );
    });
    if (!published.has(t.name))
      add(
        where,
        'publishers',
        'no service publishes to it',
        `add "${t.name}" to some service's publishes, or remove the topic`,
      );
  }

  for (const s of def.services) validateService(s, def, serviceNames, topics, add);
  validateRoutes(def.services, add);
  return problems;
}

type Add = (where: string, field: string, message: string, fix: string) => void;

function validateService(
  s: ServiceDefinition,
  def: SystemDefinition,
  serviceNames: ReadonlySet<string>,
  topics: ReadonlyMap<string, { events: readonly string[] }>,
  add: Add,
): void {
  const where = `service "${s.name}"`;
  if (!isDnsLabel(s.name)) add(where, 'name', `"${s.name}" is not a DNS-1035 label`, dnsFix());
  if (!Number.isInteger(s.port) || s.port < 1024 || s.port > 65535) {
    add(
      where,
      'port',
      `${s.port} is out of range`,
      'use an integer from 1024 to 65535 (the pod runs as non-root)',
    );
  }
  (s.calls ?? []).forEach((peer, i) => {
    if (peer === s.name)
      add(
        where,
        `calls[${i}]`,
        'the service calls itself',
        'call in-process code directly instead of over HTTP',
      );
    else if (!serviceNames.has(peer))
      add(
        where,
        `calls[${i}]`,
        `calls unknown service "${peer}"`,
        `declare "${peer}" in the system or fix the name (${known(serviceNames)})`,
      );
  });
  checkUnique(s.calls ?? [], (n) => add(where, 'calls', `"${n}" is listed twice`, 'list each peer once'));
  (s.publishes ?? []).forEach((t, i) => {
    if (!topics.has(t))
      add(
        where,
        `publishes[${i}]`,
        `publishes to unknown topic "${t}"`,
        `declare the topic with defineTopic or fix the name (${known(topics.keys())})`,
      );
  });
  (s.sends ?? []).forEach((target, i) => {
    const owner = def.services.find((o) => o.name === target.service);
    if (!owner)
      add(
        where,
        `sends[${i}]`,
        `sends to unknown service "${target.service}"`,
        `fix the name (${known(serviceNames)})`,
      );
    else if (!(owner.consumes ?? []).some((c) => 'queue' in c && c.queue === target.queue)) {
      add(
        where,
        `sends[${i}]`,
        `service "${target.service}" has no command queue "${target.queue}"`,
        `add { queue: "${target.queue}" } to ${target.service}'s consumes`,
      );
    }
  });
  const keys: string[] = [];
  (s.consumes ?? []).forEach((c, i) => {
    const field = `consumes[${i}]`;
    const key = 'topic' in c ? c.topic : c.queue;
    keys.push(key);
    if ('topic' in c) {
      const topic = topics.get(c.topic);
      if (!topic)
        add(
          where,
          field,
          `subscribes to unknown topic "${c.topic}"`,
          `declare the topic or fix the name (${known(topics.keys())})`,
        );
      else {
        (c.events ?? []).forEach((e, j) => {
          if (!topic.events.includes(e))
            add(
              where,
              `${field}.events[${j}]`,
              `topic "${c.topic}" carries no event "${e}"`,
              `use one of ${topic.events.join(', ')}`,
            );
        });
      }
      if (c.events && c.events.length === 0)
        add(
          where,
          `${field}.events`,
          'is empty, so nothing would be delivered',
          'omit events to receive all, or name some',
        );
    } else if (!isDnsLabel(c.queue)) {
      add(where, `${field}.queue`, `"${c.queue}" is not a DNS-1035 label`, dnsFix());
    }
    if ((c as { maxReceiveCount?: unknown }).maxReceiveCount !== undefined) {
      add(
        where,
        `${field}.maxReceiveCount`,
        'is no longer set by hand: the redrive count is derived from retryWindowMinutes',
        'remove it and set retryWindowMinutes (minutes a failing message is retried; default 15) instead',
      );
    }
    const window = c.retryWindowMinutes;
    if (
      window !== undefined &&
      (!Number.isInteger(window) || window < 1 || window > MAX_RETRY_WINDOW_MINUTES)
    ) {
      add(
        where,
        `${field}.retryWindowMinutes`,
        `${window} is out of range`,
        `use an integer from 1 to ${MAX_RETRY_WINDOW_MINUTES} (beyond 12 hours the redrive count would pass SQS's limit of 1000)`,
      );
    }
    const vis = c.visibilityTimeoutSeconds;
    const visOk = vis === undefined || (Number.isInteger(vis) && vis >= 1 && vis <= MAX_VISIBILITY_SECONDS);
    if (!visOk) {
      add(
        where,
        `${field}.visibilityTimeoutSeconds`,
        `${vis} is out of range`,
        `use an integer from 1 to ${MAX_VISIBILITY_SECONDS} (12 hours, the SQS maximum)`,
      );
    }
    const handler = c.handlerTimeoutSeconds;
    const handlerMax =
      MAX_VISIBILITY_SECONDS - (visOk ? (vis ?? SUBSCRIPTION_DEFAULTS.visibilityTimeoutSeconds) : 1);
    if (handler !== undefined && (!Number.isInteger(handler) || handler < 1 || handler > handlerMax)) {
      add(
        where,
        `${field}.handlerTimeoutSeconds`,
        `${handler} is out of range`,
        `use an integer from 1 to ${handlerMax}: SQS keeps a message invisible for at most 12 hours after it was ` +
          'received, and the heartbeat extends it by the visibility timeout until the handler deadline',
      );
    }
    const longest = dlqName(def.name, { name: LONGEST_ENV_NAME }, s.name, key);
    if (longest.length > MAX_QUEUE_NAME_LENGTH) {
      add(
        where,
        field,
        `queue name "${longest}" is ${longest.length} characters, over the SQS limit of ${MAX_QUEUE_NAME_LENGTH}`,
        'shorten the system, service or queue name',
      );
    }
  });
  checkUnique(keys, (k) =>
    add(
      where,
      'consumes',
      `consumes "${k}" twice`,
      'merge the two subscriptions into one with both event types',
    ),
  );

  const r = s.replicas;
  if (r) {
    if (!Number.isInteger(r.min) || r.min < 0)
      add(where, 'replicas.min', `${r.min} is not a whole number >= 0`, 'use 0 or more');
    if (!Number.isInteger(r.max) || r.max < 1)
      add(where, 'replicas.max', `${r.max} is not a whole number >= 1`, 'use 1 or more');
    if (r.min > r.max) add(where, 'replicas', `min ${r.min} is greater than max ${r.max}`, 'make min <= max');
  }
  if (s.scaling?.kind === 'queue' && (s.consumes ?? []).length === 0) {
    add(
      where,
      'scaling',
      'scales on queue depth but consumes no queue',
      "consume a topic or queue, or use { kind: 'cpu' }",
    );
  }
  if (s.scaling?.kind === 'cpu' && s.scaling.targetUtilization !== undefined) {
    const u = s.scaling.targetUtilization;
    if (!Number.isInteger(u) || u < 1 || u > 100)
      add(where, 'scaling.targetUtilization', `${u} is out of range`, 'use a percentage from 1 to 100');
  }
}

/** Public routes must be path prefixes that no other service's prefix overlaps (the front door would be ambiguous). */
function validateRoutes(services: readonly ServiceDefinition[], add: Add): void {
  const all = services.flatMap((s) => (s.routes ?? []).map((route, i) => ({ service: s.name, route, i })));
  for (const r of all) {
    if (!/^\/[A-Za-z0-9._~\-/]*$/.test(r.route) || r.route.includes('//')) {
      add(
        `service "${r.service}"`,
        `routes[${r.i}]`,
        `"${r.route}" is not an absolute path prefix`,
        'start with "/" and use only path characters, e.g. "/api/orders"',
      );
    }
  }
  for (let a = 0; a < all.length; a++) {
    for (let b = a + 1; b < all.length; b++) {
      const x = all[a]!;
      const y = all[b]!;
      if (prefixesOverlap(x.route, y.route)) {
        add(
          `service "${y.service}"`,
          `routes[${y.i}]`,
          `"${y.route}" overlaps "${x.route}" of service "${x.service}"`,
          'give each service its own path prefix (e.g. /api/<service>)',
        );
      }
    }
  }
}

/** Two prefixes overlap when one equals the other or is a whole-segment prefix of it. */
export function prefixesOverlap(a: string, b: string): boolean {
  const norm = (p: string) => (p.endsWith('/') && p.length > 1 ? p.slice(0, -1) : p);
  const [x, y] = [norm(a), norm(b)];
  if (x === y) return true;
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  return short === '/' || long.startsWith(`${short}/`);
}

function isDnsLabel(name: string): boolean {
  return name.length >= 1 && name.length <= 63 && DNS_1035.test(name);
}

function dnsFix(): string {
  return 'use at most 63 lower-case letters, digits and "-", starting with a letter and not ending with "-"';
}

function checkUnique(names: readonly string[], onDuplicate: (name: string) => void): void {
  const seen = new Set<string>();
  const reported = new Set<string>();
  for (const n of names) {
    if (seen.has(n) && !reported.has(n)) {
      reported.add(n);
      onDuplicate(n);
    }
    seen.add(n);
  }
}

function known(names: Iterable<string>): string {
  const list = [...names];
  return list.length ? `known: ${list.join(', ')}` : 'none declared';
}
