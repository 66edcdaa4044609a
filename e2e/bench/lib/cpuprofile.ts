/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per package, and
 * inclusive time of chosen functions, so a benchmark miss can be attributed to a component.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `file:///…/node_modules/@opentelemetry/sdk-trace-base/…` -> `@opentelemetry/sdk-trace-base`. */
export function packageOf(url: string): string {
  if (url === '') return '(native/vm)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node:internal';
  const src = url.match(/\/(platform\/[a-z]+\/src\/[^?]*|e2e\/bench\/[^?]*)/);
  return src?.[1] ?? url;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self ms per package (or per file for the repository's own sources), largest first. */
  readonly byPackage: Array<[string, number]>;
  /** Self ms per `function (package)`, largest first. */
  readonly byFunction: Array<[string, number]>;
  /** Inclusive ms of every frame whose `function package` label matches, per label. */
  inclusive(match: RegExp): Array<[string, number]>;
  /** The `count` longest stretches in which the thread never went idle, longest first. */
  busyStretches(count: number): BusyStretch[];
}

/**
 * A stretch of the profile without an idle sample: the event loop was held for `ms`, and every request
 * due meanwhile waited. Few samples over a long stretch mean the process was not running at all
 * (descheduled by the machine), not that it was working.
 */
export interface BusyStretch {
  /** From the start of the profile. */
  readonly atMs: number;
  readonly ms: number;
  readonly samples: number;
  /** Self ms per `function (package)` within the stretch, largest first. */
  readonly byFunction: Array<[string, number]>;
}

/** Root-level frames where V8 samples a thread that runs no JavaScript (waiting in the event loop). */
const IDLE_FRAMES = new Set(['(idle)', '(program)']);

export function summarise(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${packageOf(n.callFrame.url)}`;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const pkg = new Map<string, number>();
  const fn = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id) as ProfileNode;
    total += us;
    add(pkg, packageOf(n.callFrame.url), us);
    add(fn, label(n), us);
  }
  const sorted = (m: Map<string, number>) =>
    [...m].map(([k, us]): [string, number] => [k, us / 1000]).sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    byPackage: sorted(pkg),
    byFunction: sorted(fn),
    inclusive(match) {
      // A sample counts once per label even when the label recurses on its stack.
      const out = new Map<string, number>();
      for (const [id, us] of selfUs) {
        const seen = new Set<string>();
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
          const l = label(byId.get(cur) as ProfileNode);
          if (match.test(l) && !seen.has(l)) {
            seen.add(l);
            add(out, l, us);
          }
        }
      }
      return sorted(out);
    },
    busyStretches(count) {
      const rootId = profile.nodes[0]?.id;
      const isIdle = (id: number) =>
        parent.get(id) === rootId && IDLE_FRAMES.has(byId.get(id)?.callFrame.functionName ?? '');
      const stretches: BusyStretch[] = [];
      let at = 0;
      let current: { atMs: number; endMs: number; samples: number; fn: Map<string, number> } | undefined;
      const close = () => {
        if (current === undefined) return;
        const { atMs, endMs, samples, fn } = current;
        stretches.push({ atMs, ms: endMs - atMs, samples, byFunction: sorted(fn) });
        current = undefined;
      };
      profile.samples.forEach((id, i) => {
        const us = profile.timeDeltas[i] ?? 0;
        at += us;
        if (isIdle(id)) return close();
        current ??= { atMs: (at - us) / 1000, endMs: at / 1000, samples: 0, fn: new Map() };
        current.endMs = at / 1000;
        current.samples++;
        add(current.fn, label(byId.get(id) as ProfileNode), us);
      });
      // A profile that ends busy ends a stretch too.
      close();
      return stretches.sort((a, b) => b.ms - a.ms).slice(0, count);
    },
  };
}
