/**
 * What the OpenTelemetry SDK alone costs per server span, without HTTP: a loop that starts a span the way
 * the kit's request observer does (root context, SERVER kind, the request attributes when recording),
 * makes it active for a no-op, names and ends it, under three samplers. It tells the SDK's own work from
 * what a server pays around it (compare with `ab.ts` at a fixed rate). Not part of `make bench`:
 *
 *   node --import tsx e2e/bench/http/span-cost.ts [spans per round (200000)] [rounds (6)]
 *
 * Prints microseconds per span for each round after the first (a warm-up), per sampler, with the SDK
 * packages the kit's runtime depends on.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { context, ROOT_CONTEXT, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace';
import { repoRoot } from '../lib/child.js';

// The kit's own copies (the runtime pins its SDK; this workspace's is the peers' version).
const kitRequire = createRequire(join(repoRoot, 'platform/runtime/package.json'));
const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } =
  kitRequire('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
const { AsyncLocalStorageContextManager } = kitRequire(
  '@opentelemetry/context-async-hooks',
) as typeof import('@opentelemetry/context-async-hooks');

const [spansArg, roundsArg] = process.argv.slice(2);
const spans = Number(spansArg ?? 200_000);
const rounds = Number(roundsArg ?? 6);

const manager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(manager);

const tracerWith = (sampler: Sampler): Tracer =>
  new TracerProvider({ sampler, spanProcessors: [] }).getTracer('span-cost');
const tracers: Record<string, Tracer> = {
  always_off: tracerWith(new AlwaysOffSampler()),
  '10%': tracerWith(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) })),
  '100%': tracerWith(new ParentBasedSampler({ root: new AlwaysOnSampler() })),
};

/** The attributes the kit's observer sets on a recorded server span (see observe.ts). */
const REQUEST = {
  'http.request.method': 'GET',
  'url.path': '/api/items/7',
  'url.scheme': 'http',
  'network.protocol.version': '1.1',
  'server.address': '127.0.0.1',
  'client.address': '127.0.0.1',
  'user_agent.original': 'bench',
};
const OUTCOME = {
  'http.request.method': 'GET',
  'http.response.status_code': 200,
  'http.route': '/api/items/:id',
};
const noop = () => undefined;

/** One server span; returns its trace id so that the loop's work is used and cannot be optimised away. */
function serverSpan(tracer: Tracer): string {
  const span = tracer.startSpan('GET', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
  if (span.isRecording()) span.setAttributes(REQUEST);
  context.with(trace.setSpan(ROOT_CONTEXT, span), noop);
  if (span.isRecording()) {
    span.updateName('GET /api/items/:id');
    span.setAttributes(OUTCOME);
  }
  span.end();
  return span.spanContext().traceId;
}

const perSpan: Record<string, number[]> = Object.fromEntries(Object.keys(tracers).map((k) => [k, []]));
for (let round = 0; round < rounds; round++)
  for (const [name, tracer] of Object.entries(tracers)) {
    const started = performance.now();
    for (let i = 0; i < spans; i++) serverSpan(tracer);
    if (round > 0) perSpan[name]?.push(((performance.now() - started) * 1000) / spans);
  }
for (const [name, us] of Object.entries(perSpan))
  console.log(`${name}: ${us.map((x) => x.toFixed(2)).join(' ')} us/span`);
