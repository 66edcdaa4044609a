/**
 * Issue 4, synthesis at scale: render() of charts-ts for the `prod` environment (EKS: the most objects per
 * service) plus schema validation of every object, for generated systems of 100, 250 and 500 services,
 * against bare cdk8s-plus (Deployment + Service + HPA per service) for the same N, alternating per round.
 * Target: 500 services synthesized and validated in < 10 s, and about linear growth (reported as the ms
 * per service at each N).
 */
import { prod } from '../../../charts-ts/src/environments/index.js';
import { listKnob, knob, report, type Row } from '../lib/result.js';
import { median, samples } from '../lib/stats.js';
import { bareCdk8s } from './bare-cdk8s.js';
import { renderAndValidate, validators, type SynthResult } from './flotilla.js';
import { generatedSystem } from './generate.js';

const SIZES = listKnob('BENCH_SYNTH_SIZES', [100, 250, 500], [10, 25]);
const ROUNDS = knob('BENCH_SYNTH_ROUNDS', 2, 1);

const v = validators();
// Warm-up: module loading, JIT and the lazily compiled schema validators are not part of a synth.
renderAndValidate(generatedSystem(10), prod, v);
bareCdk8s(10);

const rows: Row[] = [];
const perService: string[] = [];
for (const n of SIZES) {
  const system = generatedSystem(n);
  const bare: number[] = [];
  const ours: SynthResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    bareCdk8s(n);
    bare.push(performance.now() - started);
    ours.push(renderAndValidate(system, prod, v));
  }
  const total = ours.map((r) => r.renderMs + r.validateMs);
  const subject = median(total);
  perService.push(`${n}: ${(subject / n).toFixed(1)} ms`);
  rows.push({
    suite: 'synth',
    name: `${n} services: render + validate vs bare cdk8s-plus`,
    unit: 'ms',
    flotilla: subject,
    baseline: median(bare),
    baselineName: 'bare cdk8s-plus (Deployment + Service + HPA per service)',
    target: n === 500 ? { kind: 'max-value', value: 10_000 } : { kind: 'info' },
    note:
      `${ours[0]?.objects} objects; render ${samples(ours.map((r) => r.renderMs))} + validate ` +
      `${samples(ours.map((r) => r.validateMs))} ms; bare ${samples(bare)} ms; per service ${perService.join(', ')}`,
    chart: { id: 'synth', x: n },
  });
}
report(rows);
