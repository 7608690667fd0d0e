/** The verdict per series (pure): thresholds, directions, new keys, min_runs and the Holm family. */
import { describe, expect, it } from 'vitest';
import { verdicts } from '../../src/engine/verdict.js';
import type { Rule } from '../../src/rules/types.js';
import { SIGNAL_IMPLS, type Measurement } from '../../src/signals/index.js';

const rule = (over: Partial<Rule> = {}): Rule => ({
  alert: 'R', signal: 'cost_per_success', where: {}, groupBy: ['workflow_id'], windowMs: 7 * 864e5,
  baseline: { kind: 'previous', lengthMs: 7 * 864e5, offsetMs: 0 }, threshold: 0.2, direction: 'up', minRuns: 100,
  significance: null, forMs: 0, options: {}, labels: {}, annotations: {}, pos: { file: 'f', line: 1, col: 1 }, ...over,
});

const m = (over: Partial<Measurement>): Measurement => ({
  labels: { workflow_id: 'w' }, key: '', current: 1.3, baseline: 1, deviation: 0.3, isNew: false, currentRuns: 500, baselineRuns: 500,
  test: null, contributors: [], exampleRunIds: [], ...over,
});

const verdict = (r: Rule, ms: Measurement[], signal = SIGNAL_IMPLS.cost_per_success) =>
  verdicts(r, signal, ms).map((s) => (s.outcome.kind === 'ok' ? s.outcome.active : s.outcome.kind));

describe('verdicts', () => {
  it.each([
    ['up, +30% over 20%', 'up', 0.3, true],
    ['up, +10%', 'up', 0.1, false],
    ['up, -30%', 'up', -0.3, false],
    ['down, -30%', 'down', -0.3, true],
    ['down, +30%', 'down', 0.3, false],
    ['both, -30%', 'both', -0.3, true],
    ['both, +20% exactly', 'both', 0.2, true],
  ] as const)('%s', (_name, direction, deviation, expected) => {
    expect(verdict(rule({ direction }), [m({ deviation })])).toEqual([expected]);
  });

  it('a key new in the current window fires up and both, not down', () => {
    const fresh = m({ baseline: 0, deviation: null, isNew: true });
    expect(verdict(rule({ direction: 'up' }), [fresh])).toEqual([true]);
    expect(verdict(rule({ direction: 'both' }), [fresh])).toEqual([true]);
    expect(verdict(rule({ direction: 'down' }), [fresh])).toEqual([false]);
  });

  it('too few runs in either window is no-data', () => {
    expect(verdict(rule(), [m({ currentRuns: 99 }), m({ baselineRuns: 99 }), m({ current: null })])).toEqual(['nodata', 'nodata', 'nodata']);
  });

  it('effect-size signals compare the effect with the threshold whatever the direction', () => {
    const sig = SIGNAL_IMPLS.output_schema_shift;
    expect(verdict(rule({ signal: 'output_schema_shift', direction: 'up' }), [m({ deviation: 0.25, baseline: 0 })], sig)).toEqual([true]);
    expect(verdict(rule({ signal: 'output_schema_shift' }), [m({ deviation: 0.15, baseline: 0 })], sig)).toEqual([false]);
  });

  it('Holm: p-values are adjusted over the series that can alert; groups below min_runs stay out of the family', () => {
    const test = (pValue: number) => ({ name: 'x', statistic: 0, pValue });
    const r = rule({ significance: 0.05 });
    // Alone, 0.03 < 0.05 fires. A second eligible test doubles it (0.06): no alert.
    expect(verdict(r, [m({ test: test(0.03) })])).toEqual([true]);
    expect(verdict(r, [m({ test: test(0.03) }), m({ labels: { workflow_id: 'v' }, test: test(0.9) })])).toEqual([false, false]);
    // A group below min_runs does not count: 0.03 stays 0.03.
    const out = verdicts(r, SIGNAL_IMPLS.cost_per_success, [m({ test: test(0.03) }), m({ labels: { workflow_id: 'v' }, currentRuns: 3, test: test(0.9) })]);
    expect(out[0]!.pValue).toBeCloseTo(0.03, 10);
    expect(out[1]!.pValue).toBeNull();
    expect(out.map((s) => (s.outcome.kind === 'ok' ? s.outcome.active : s.outcome.kind))).toEqual([true, 'nodata']);
  });
});

describe('verdicts with a frozen baseline (a firing series keeps its baseline from when it fired)', () => {
  const test = (pValue: number) => ({ name: 't', statistic: 1, pValue });
  const frozen = new Map([['R{workflow_id="w"}', 1.0]]);

  it('compares with the frozen value: a persisting change stays true after the live baseline absorbed it', () => {
    // Live: 2.0 vs 1.9 (+5%, not significant); frozen: 2.0 vs 1.0 (+100%).
    const [s] = verdicts(rule({ significance: 0.01 }), SIGNAL_IMPLS.cost_per_success, [m({ current: 2, baseline: 1.9, deviation: 0.0526, test: test(0.4) })], frozen);
    expect(s).toMatchObject({ baseline: 1, deviation: 1, outcome: { kind: 'ok', active: true }, extra: { live_baseline: 1.9, frozen_baseline: 1 } });
  });

  it('goes false when the signal returns to the frozen baseline', () => {
    const [s] = verdicts(rule(), SIGNAL_IMPLS.cost_per_success, [m({ current: 1.05, baseline: 2, deviation: -0.475 })], frozen);
    expect(s).toMatchObject({ baseline: 1, outcome: { kind: 'ok', active: false } });
    expect(s!.deviation).toBeCloseTo(0.05, 10);
  });

  it('still needs min_runs, and leaves other series and effect sizes on their live baseline and test', () => {
    const r = rule({ signal: 'tool_calls_per_run', significance: 0.05 });
    const frozenMix = new Map([['R{workflow_id="w",tool="__mix__"}', 0.01], ['R{workflow_id="w",tool="a"}', 1]]);
    const out = verdicts(r, SIGNAL_IMPLS.tool_calls_per_run, [
      m({ labels: { workflow_id: 'w', tool: '__mix__' }, key: '__mix__', current: 0.3, baseline: 0, deviation: 0.3, test: test(0.001) }),
      m({ labels: { workflow_id: 'w', tool: 'a' }, key: 'a', current: 2, baseline: 1.9, deviation: 0.05, currentRuns: 5, test: test(0.5) }),
      m({ labels: { workflow_id: 'v', tool: 'a' }, key: 'a', current: 1.3, baseline: 1, deviation: 0.3, test: test(0.03) }),
    ], frozenMix);
    expect(out.map((s) => (s.outcome.kind === 'ok' ? s.outcome.active : s.outcome.kind))).toEqual([true, 'nodata', true]);
    expect(out[0]!.baseline).toBe(0); // a distance is never compared with a frozen value
    // The family is the two live tested series: Holm multiplies the smaller p by 2.
    expect(out[0]!.pValue).toBeCloseTo(0.002, 10);
    expect(out[2]!.pValue).toBeCloseTo(0.03, 10);
  });
});
