/**
 * The verdict per series (pure): thresholds, directions, new keys, min_runs and the Holm family; frozen
 * baselines, the confirm window and hysteresis (the resolve threshold of a holding series).
 */
import { describe, expect, it } from 'vitest';
import { confirmMinRuns, lookLevel, verdicts } from '../../src/engine/verdict.js';
import { resolveThresholdOf, type Rule } from '../../src/rules/types.js';
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
    // The p-values are compared with the rule's per-look level (lookLevel), p = 0.6 of it here.
    const p = 0.6 * lookLevel(r);
    // Alone it fires. A second eligible test doubles it (1.2 times the level): no alert.
    expect(verdict(r, [m({ test: test(p) })])).toEqual([true]);
    expect(verdict(r, [m({ test: test(p) }), m({ labels: { workflow_id: 'v' }, test: test(0.9) })])).toEqual([false, false]);
    // A group below min_runs does not count: p stays p.
    const out = verdicts(r, SIGNAL_IMPLS.cost_per_success, [m({ test: test(p) }), m({ labels: { workflow_id: 'v' }, currentRuns: 3, test: test(0.9) })]);
    expect(out[0]!.pValue).toBeCloseTo(p, 12);
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
    const level = lookLevel(r);
    const frozenMix = new Map([['R{workflow_id="w",tool="__mix__"}', 0.01], ['R{workflow_id="w",tool="a"}', 1]]);
    const out = verdicts(r, SIGNAL_IMPLS.tool_calls_per_run, [
      m({ labels: { workflow_id: 'w', tool: '__mix__' }, key: '__mix__', current: 0.3, baseline: 0, deviation: 0.3, test: test(0.1 * level) }),
      m({ labels: { workflow_id: 'w', tool: 'a' }, key: 'a', current: 2, baseline: 1.9, deviation: 0.05, currentRuns: 5, test: test(0.5) }),
      m({ labels: { workflow_id: 'v', tool: 'a' }, key: 'a', current: 1.3, baseline: 1, deviation: 0.3, test: test(0.3 * level) }),
    ], frozenMix);
    expect(out.map((s) => (s.outcome.kind === 'ok' ? s.outcome.active : s.outcome.kind))).toEqual([true, 'nodata', true]);
    expect(out[0]!.baseline).toBe(0); // a distance is never compared with a frozen value
    // The family is the two live tested series: Holm multiplies the smaller p by 2.
    expect(out[0]!.pValue).toBeCloseTo(0.2 * level, 12);
    expect(out[2]!.pValue).toBeCloseTo(0.3 * level, 12);
  });
});

describe('verdicts with a confirm window (the last part of the current window must show the change too)', () => {
  const DAY = 864e5;
  const id = 'R{workflow_id="w"}';
  /** 7d window, min_runs 100, confirm 1d: the confirm window needs ceil(100 / 7) = 15 runs. */
  const cr = (over: Partial<Rule> = {}) => rule({ confirmWindowMs: DAY, ...over });
  const c = (over: Partial<Measurement>) => m({ currentRuns: 70, ...over });
  const judge = (r: Rule, main: Measurement, confirm: readonly Measurement[] | null | undefined, extra: { holding?: ReadonlySet<string>; frozen?: ReadonlyMap<string, number> } = {}) => {
    const [s] = verdicts(r, SIGNAL_IMPLS.cost_per_success, [main], extra.frozen, { ...(extra.holding ? { holding: extra.holding } : {}), confirm });
    return s!;
  };
  const active = (s: ReturnType<typeof judge>) => (s.outcome.kind === 'ok' ? s.outcome.active : s.outcome.kind);

  it('confirmMinRuns: min_runs scaled by confirm / window, rounded up, at least 1; 0 without a confirm window', () => {
    expect(confirmMinRuns(cr())).toBe(15);
    expect(confirmMinRuns(cr({ minRuns: 200 }))).toBe(29);
    expect(confirmMinRuns(cr({ minRuns: 7 }))).toBe(1);
    expect(confirmMinRuns(cr({ minRuns: 1, confirmWindowMs: 3_600_000 }))).toBe(1);
    expect(confirmMinRuns(cr({ minRuns: 3, confirmWindowMs: 3_600_000 }))).toBe(1);
    expect(confirmMinRuns(cr({ windowMs: DAY, minRuns: 100, confirmWindowMs: 6 * 3_600_000 }))).toBe(25);
    expect(confirmMinRuns(rule())).toBe(0);
  });

  it.each<[string, number, number, boolean]>([
    // main deviation, confirm deviation (threshold 20%, direction up)
    ['both past the threshold', 0.3, 0.25, true],
    ['confirm exactly at the threshold', 0.3, 0.2, true],
    ['confirm below: vetoed (a change that is over)', 0.3, 0.1, false],
    ['confirm gone the other way: vetoed', 0.3, -0.3, false],
    ['confirm past, main below: the main condition still decides', 0.1, 0.5, false],
  ])('%s', (_name, main, confirm, expected) => {
    expect(active(judge(cr(), m({ deviation: main }), [c({ deviation: confirm })]))).toBe(expected);
  });

  it('direction down: the confirm window must be down past the threshold too', () => {
    expect(active(judge(cr({ direction: 'down' }), m({ deviation: -0.3 }), [c({ deviation: -0.25 })]))).toBe(true);
    expect(active(judge(cr({ direction: 'down' }), m({ deviation: -0.3 }), [c({ deviation: -0.05 })]))).toBe(false);
    expect(active(judge(cr({ direction: 'both' }), m({ deviation: -0.3 }), [c({ deviation: 0.25 })]))).toBe(true);
  });

  it('a confirm window with fewer runs than confirmMinRuns does not veto (a quiet day says nothing)', () => {
    expect(active(judge(cr(), m({ deviation: 0.3 }), [c({ deviation: 0, currentRuns: 14 })]))).toBe(true);
    expect(active(judge(cr(), m({ deviation: 0.3 }), [c({ deviation: 0, currentRuns: 15 })]))).toBe(false);
    // min_runs 1: a single run in the confirm window judges.
    expect(active(judge(cr({ minRuns: 1 }), m({ deviation: 0.3 }), [c({ deviation: 0, currentRuns: 1 })]))).toBe(false);
    expect(active(judge(cr({ minRuns: 1 }), m({ deviation: 0.3 }), [c({ deviation: 0, currentRuns: 0 })]))).toBe(true);
  });

  it.each<[string, readonly Measurement[] | null | undefined]>([
    ['no confirm measurement for the series', [c({ labels: { workflow_id: 'other' }, deviation: 0 })]],
    ['an empty confirm list', []],
    ['confirm null (no confirm window)', null],
    ['no confirm context at all', undefined],
    ['a confirm measurement without a value', [c({ current: null, deviation: null })]],
  ])('%s: no veto, no confirm extras', (_name, confirm) => {
    const s = judge(cr(), m({ deviation: 0.3 }), confirm);
    expect(active(s)).toBe(true);
    expect(s.extra?.confirm_deviation).toBeUndefined();
    expect(s.extra?.confirm_runs).toBeUndefined();
  });

  it('a confirm window does not turn no-data into a verdict', () => {
    expect(active(judge(cr(), m({ deviation: 0.3, currentRuns: 99 }), [c({ deviation: 0.3 })]))).toBe('nodata');
  });

  it('confirms each series against its own confirm measurement', () => {
    const r = cr();
    const out = verdicts(r, SIGNAL_IMPLS.cost_per_success, [m({ deviation: 0.3 }), m({ labels: { workflow_id: 'v' }, deviation: 0.3 })], new Map(), {
      confirm: [c({ labels: { workflow_id: 'v' }, deviation: 0.05 }), c({ deviation: 0.4 })],
    });
    expect(out.map((s) => (s.outcome.kind === 'ok' ? s.outcome.active : s.outcome.kind))).toEqual([true, false]);
    expect(out.map((s) => s.extra?.confirm_deviation)).toEqual([0.4, 0.05]);
  });

  it('the confirm numbers are in the extras: confirm_current, confirm_deviation, confirm_runs', () => {
    const s = judge(cr(), m({ deviation: 0.3, extra: { measure: 'x' } }), [c({ current: 1.25, deviation: 0.25, currentRuns: 70 })]);
    expect(s.extra).toEqual({ measure: 'x', confirm_current: 1.25, confirm_deviation: 0.25, confirm_runs: 70 });
    // Vetoed or not, they are reported.
    const vetoed = judge(cr(), m({ deviation: 0.3 }), [c({ current: 1.05, deviation: 0.05, currentRuns: 20 })]);
    expect(active(vetoed)).toBe(false);
    expect(vetoed.extra).toMatchObject({ confirm_current: 1.05, confirm_deviation: 0.05, confirm_runs: 20 });
  });

  it('the confirm window is not a test: significance is the main comparison\'s', () => {
    const test = (pValue: number) => ({ name: 't', statistic: 1, pValue });
    const r = cr({ significance: 0.01 });
    expect(active(judge(r, m({ deviation: 0.3, test: test(1e-12) }), [c({ deviation: 0.3, test: test(0.5) })]))).toBe(true);
    expect(active(judge(r, m({ deviation: 0.3, test: test(0.5) }), [c({ deviation: 0.3, test: test(1e-12) })]))).toBe(false);
  });

  it('an effect-size series is confirmed on its effect size', () => {
    const sig = SIGNAL_IMPLS.output_schema_shift;
    const r = cr({ signal: 'output_schema_shift' });
    const run = (confirm: number) => {
      const [s] = verdicts(r, sig, [m({ baseline: 0, deviation: 0.3 })], new Map(), { confirm: [c({ baseline: 0, deviation: confirm })] });
      return s!.outcome.kind === 'ok' && s!.outcome.active;
    };
    expect(run(0.25)).toBe(true);
    expect(run(0.1)).toBe(false);
  });

  describe('against a frozen baseline', () => {
    const frozen = new Map([[id, 1.0]]);

    it('the confirm window is compared with the frozen value, not the live baseline', () => {
      // Live baseline 1.9 (it absorbed the change); frozen 1.0. Confirm current 1.5: -21% live, +50% frozen.
      const s = judge(cr(), m({ current: 2, baseline: 1.9, deviation: 0.0526 }), [c({ current: 1.5, baseline: 1.9, deviation: -0.2105 })], { frozen });
      expect(active(s)).toBe(true);
      expect(s.extra).toMatchObject({ frozen_baseline: 1, live_baseline: 1.9, confirm_current: 1.5, confirm_runs: 70 });
      expect(s.extra!.confirm_deviation).toBeCloseTo(0.5, 12);
    });

    it('and vetoes when the confirm window is back near the frozen value', () => {
      const s = judge(cr(), m({ current: 2, baseline: 1.9, deviation: 0.0526 }), [c({ current: 1.05, baseline: 1.9, deviation: -0.447 })], { frozen });
      expect(active(s)).toBe(false);
      expect(s.extra!.confirm_deviation).toBeCloseTo(0.05, 12);
    });

    it('a holding frozen series: the confirm window holds it until the last day is back at the frozen baseline', () => {
      const holding = new Set([id]);
      // Frozen 1.0: main +30%; confirm +3%: under the resolve threshold (10%) but not back yet.
      const s = judge(cr(), m({ current: 1.3, baseline: 1.25, deviation: 0.04 }), [c({ current: 1.03, baseline: 1.25, deviation: -0.176 })], { frozen, holding });
      expect(active(s)).toBe(true);
      const back = judge(cr(), m({ current: 1.3, baseline: 1.25, deviation: 0.04 }), [c({ current: 0.98, baseline: 1.25, deviation: -0.216 })], { frozen, holding });
      expect(active(back)).toBe(false);
    });
  });
});

describe('verdicts with hysteresis (a holding series resolves at the resolve threshold)', () => {
  const id = 'R{workflow_id="w"}';
  const holding = new Set([id]);
  const run = (r: Rule, deviation: number, hold: boolean, over: Partial<Measurement> = {}) => {
    const [s] = verdicts(r, SIGNAL_IMPLS.cost_per_success, [m({ deviation, ...over })], new Map(), hold ? { holding } : {});
    return s!.outcome.kind === 'ok' ? s!.outcome.active : s!.outcome.kind;
  };

  it('resolveThresholdOf: resolve_threshold when set, else half the threshold', () => {
    expect(resolveThresholdOf(rule())).toBe(0.1);
    expect(resolveThresholdOf(rule({ threshold: 0.5 }))).toBe(0.25);
    expect(resolveThresholdOf(rule({ resolveThreshold: 0.05 }))).toBe(0.05);
    expect(resolveThresholdOf(rule({ resolveThreshold: 0 }))).toBe(0);
  });

  it.each<[string, Partial<Rule>, number, boolean, boolean]>([
    // name, rule, deviation, holding, active
    ['holding at +15% (between resolve 10% and threshold 20%): stays active', {}, 0.15, true, true],
    ['not holding at +15%: needs the full threshold', {}, 0.15, false, false],
    ['holding exactly at the resolve threshold: active', {}, 0.1, true, true],
    ['holding under the resolve threshold: resolves', {}, 0.09, true, false],
    ['holding past the threshold: active', {}, 0.3, true, true],
    ['not holding past the threshold: active', {}, 0.3, false, true],
    ['resolve_threshold 5%, holding at +6%', { resolveThreshold: 0.05 }, 0.06, true, true],
    ['resolve_threshold 5%, holding at +4%', { resolveThreshold: 0.05 }, 0.04, true, false],
    ['resolve_threshold 0, holding at no change: active until the change is gone the other way', { resolveThreshold: 0 }, 0, true, true],
    ['resolve_threshold 0, holding at -1%', { resolveThreshold: 0 }, -0.01, true, false],
    ['resolve_threshold = threshold: no hysteresis', { resolveThreshold: 0.2 }, 0.15, true, false],
    ['direction down, holding at -15%', { direction: 'down' }, -0.15, true, true],
    ['direction down, holding at +15%', { direction: 'down' }, 0.15, true, false],
    ['direction both, holding at -12%', { direction: 'both' }, -0.12, true, true],
  ])('%s', (_name, over, deviation, hold, expected) => {
    expect(run(rule(over), deviation, hold)).toBe(expected);
  });

  it('only the series in `holding` get the resolve threshold', () => {
    const out = verdicts(rule(), SIGNAL_IMPLS.cost_per_success, [m({ deviation: 0.15 }), m({ labels: { workflow_id: 'v' }, deviation: 0.15 })], new Map(), { holding });
    expect(out.map((s) => (s.outcome.kind === 'ok' ? s.outcome.active : s.outcome.kind))).toEqual([true, false]);
  });

  it('a holding series is held by its deviation, as a frozen one is: its test is not asked again', () => {
    const test = (pValue: number) => ({ name: 't', statistic: 1, pValue });
    const r = rule({ significance: 0.01 });
    expect(run(r, 0.15, true, { test: test(0.4) })).toBe(true);
    expect(run(r, 0.3, false, { test: test(0.4) })).toBe(false);
  });

  it('still needs min_runs', () => {
    expect(run(rule(), 0.5, true, { currentRuns: 3 })).toBe('nodata');
  });

  it.each<[string, number, number, boolean, boolean]>([
    // main, confirm, holding, active (threshold 20%, resolve 10%)
    ['holding: main and confirm between the thresholds', 0.15, 0.12, true, true],
    ['holding: confirm under the resolve threshold but not back at the baseline holds', 0.15, 0.08, true, true],
    ['holding: confirm back at the baseline vetoes', 0.15, -0.01, true, false],
    ['not holding: confirm at +12% vetoes', 0.3, 0.12, false, false],
    ['not holding: both past the threshold', 0.3, 0.25, false, true],
  ])('with a confirm window, %s', (_name, main, confirm, hold, expected) => {
    const r = rule({ confirmWindowMs: 864e5 });
    const [s] = verdicts(r, SIGNAL_IMPLS.cost_per_success, [m({ deviation: main })], new Map(), {
      ...(hold ? { holding } : {}),
      confirm: [m({ deviation: confirm, currentRuns: 50 })],
    });
    expect(s!.outcome.kind === 'ok' && s!.outcome.active).toBe(expected);
  });

  it('an effect-size series holds at the resolve threshold too', () => {
    const r = rule({ signal: 'output_schema_shift', threshold: 0.2 });
    const [s] = verdicts(r, SIGNAL_IMPLS.output_schema_shift, [m({ baseline: 0, deviation: 0.12 })], new Map(), { holding });
    expect(s!.outcome).toEqual({ kind: 'ok', active: true });
  });
});
