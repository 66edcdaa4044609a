/**
 * The order in which wired modules start and stop, kept per service so it does not depend on the order
 * main.ts calls the `use*` functions in.
 *
 * Start (one start hook `wiring`, before the server listens): outbox relays, then consumers — a consumer's
 * handler may write outbox rows, so the relay runs first.
 *
 * Stop (stop hooks run in reverse registration order, and createService registered `telemetry` before any
 * of these): consumers (no new work; in-flight handlers finish) -> outbox relays (the batch in flight is
 * published and marked) -> AWS clients -> database -> telemetry (spans of everything above are flushed).
 */
import type { StopHook } from '../kit.js';
import type { WiringTarget } from './target.js';

/** Stop phases, in the order they run. */
export const STOP_PHASES = ['consumers', 'outbox-relay', 'aws-clients', 'database'] as const;
export type StopPhase = (typeof STOP_PHASES)[number];

interface Phases {
  readonly stop: Record<StopPhase, StopHook[]>;
  readonly relays: (() => void)[];
  readonly consumers: (() => void)[];
  started: boolean;
}

const registry = new WeakMap<WiringTarget, Phases>();

function phasesOf(svc: WiringTarget): Phases {
  const phases = registry.get(svc);
  if (phases) return phases;
  const created: Phases = {
    stop: { consumers: [], 'outbox-relay': [], 'aws-clients': [], database: [] },
    relays: [],
    consumers: [],
    started: false,
  };
  registry.set(svc, created);
  // Registered last-phase-first, because the lifecycle runs stop hooks in reverse registration order.
  for (const phase of [...STOP_PHASES].reverse()) {
    svc.lifecycle.onStop(phase, async () => {
      // Within a phase, stop everything at once: two consumers need not wait for each other.
      const results = await Promise.allSettled(created.stop[phase].map((hook) => hook()));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) throw failed[0]!.reason;
    });
  }
  svc.lifecycle.onStart('wiring', () => {
    created.started = true;
    for (const start of created.relays) start();
    for (const start of created.consumers) start();
  });
  return created;
}

/** Adds `hook` to stop phase `phase` of `svc`. */
export function onStopPhase(svc: WiringTarget, phase: StopPhase, hook: StopHook): void {
  phasesOf(svc).stop[phase].push(hook);
}

/** Runs `start` in the `wiring` start hook (relays before consumers), or now if the service already started. */
export function onStartPhase(svc: WiringTarget, phase: 'relays' | 'consumers', start: () => void): void {
  const phases = phasesOf(svc);
  if (phases.started) start();
  else phases[phase].push(start);
}
