/**
 * Robust windows (engine/robust.ts): per group, the most outlying day of each window of a robust
 * comparison is left out when its own comparison with the rest of its window passes the threshold
 * (either way) and the signal's test puts it below TRIM_P. The sums are built by hand, one totals row
 * per group and fetched day, as the aggregates would sum them (fake-sums.test.ts does the same for
 * whole windows); the last describe runs the same case through the store (chDB) and evaluateRule.
 *
 * Rule: cost_per_success, 7d against the previous 7d, confirm_window 1d. Fetched windows
 * (evaluationWindows): 0..6 the current window's days, 7..13 the baseline's, 14 the confirm window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemble, TRIM_P, trimmedExtras } from '../../src/engine/robust.js';
import type { Rule } from '../../src/rules/types.js';
import { SIGNAL_IMPLS, type Measurement } from '../../src/signals/index.js';
import { mergeWindows } from '../../src/signals/mergeWindows.js';
import { groupKeyOf } from '../../src/signals/sql.js';
import type { SignalSums, SumsRow } from '../../src/signals/sums.js';
import { evaluationWindows, type EvaluationWindows } from '../../src/signals/windows.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { AT, DAY, HOUR, evaluate, resetRuns, rule, run, series, type AgentRunRow } from '../helpers/runs.js';

const COST = SIGNAL_IMPLS.cost_per_success;
const costRule = (over: Partial<Rule> = {}) => rule('cost_per_success', { groupBy: ['workflow_id'], confirmWindowMs: DAY, ...over });

/** Current window days are fetched 0..6, baseline days 7..13; a one-day confirm window is the last current day (6). */
const CUR = (d: number) => d;
const BASE = (d: number) => 7 + d;
const CONFIRM = 6;
/** The key `trimmed` holds a workflow's days under. */
const G = (wf: string) => groupKeyOf({ groupBy: ['workflow_id'] }, { workflow_id: wf });

interface Day {
  readonly cost: number;
  readonly runs?: number;
  /** Coefficient of variation of a run's cost (the spread the test sees). */
  readonly cv?: number;
}

/** One totals row: `runs` runs (90% successful), each costing `cost` on average (token cost only). */
function totals(w: number, workflow: string, { cost, runs = 1000, cv = 0.2 }: Day): SumsRow {
  const successes = Math.round(0.9 * runs);
  return {
    w,
    workflow_id: workflow,
    runs,
    successes,
    token_cost: runs * cost,
    token_cost_sq: runs * cost * cost * (1 + cv * cv),
    success_token_cost: successes * cost,
    tool_cost: 0,
    tool_cost_sq: 0,
    success_tool_cost: 0,
    token_x_tool_cost: 0,
  };
}

const NORMAL: Day = { cost: 0.02 };

/**
 * The fetched sums of every group: `days(w)` gives the day of fetched window w (NORMAL by default).
 * The confirm window holds the same runs as the current window's last day.
 */
function fetched(plan: EvaluationWindows, groups: Record<string, (w: number) => Day | undefined>): SignalSums {
  const rows: SumsRow[] = [];
  for (const [wf, days] of Object.entries(groups)) {
    for (const w of plan.fetch) rows.push(totals(w.index, wf, days(w.index === plan.confirm ? CUR(6) : w.index) ?? NORMAL));
  }
  return { totals: rows, keyed: [] };
}

/** The main sums with nothing left out (each window's days summed). */
function untrimmed(r: Rule, plan: EvaluationWindows, sums: SignalSums): SignalSums {
  return mergeWindows(r, sums, (w) => {
    const i = plan.parts.findIndex((p) => p.includes(w));
    return i < 0 ? null : i;
  });
}

const measure = (r: Rule, plan: EvaluationWindows, sums: SignalSums): Measurement[] => COST.measure(r, plan.main, sums);
const one = (ms: Measurement[], wf = 'wf') => ms.find((m) => m.labels.workflow_id === wf)!;
const dayIso = (plan: EvaluationWindows, w: number) => new Date(plan.fetch[w]!.startMs).toISOString();
/** Cost per success of a 90%-successful day costing `c` per run. */
const perSuccess = (c: number) => c / 0.9;

describe('assemble: a one-day spike is left out', () => {
  const r = costRule();
  const plan = evaluationWindows(r, AT);

  it('TRIM_P is 0.001', () => {
    expect(TRIM_P).toBe(0.001);
  });

  it('a +100% day in the baseline window: trimmed, the baseline is the other 6 days\' value, and the extras name the day', () => {
    const sums = fetched(plan, { wf: (w) => (w === BASE(3) ? { cost: 0.04 } : undefined) });
    const a = assemble(r, COST, plan, sums);
    expect([...a.trimmed]).toEqual([[G('wf'), [BASE(3)]]]);

    const m = one(measure(r, plan, a.main));
    expect(m.baseline).toBeCloseTo(perSuccess(0.02), 12);
    expect(m.current).toBeCloseTo(perSuccess(0.02), 12);
    expect(m.deviation).toBeCloseTo(0, 9);
    expect(m.baselineRuns).toBe(6000);
    expect(m.currentRuns).toBe(7000);
    // Kept in, the spike would move the baseline: (6 x 0.02 + 0.04) / 7 per run, -12.5% against it.
    const kept = one(measure(r, plan, untrimmed(r, plan, sums)));
    expect(kept.baseline).toBeCloseTo(perSuccess((6 * 0.02 + 0.04) / 7), 12);
    expect(kept.deviation).toBeCloseTo(-0.125, 9);

    const withExtras = trimmedExtras(plan, a.trimmed, m, groupKeyOf(r, m.labels));
    expect(withExtras.extra).toEqual({ trimmed_baseline_day: '2026-03-04T00:00:00.000Z' });
    expect(withExtras.extra!.trimmed_baseline_day).toBe(dayIso(plan, BASE(3)));
  });

  it('the same spike in the current window: trimmed, the current value is the other 6 days\'', () => {
    const sums = fetched(plan, { wf: (w) => (w === CUR(2) ? { cost: 0.04 } : undefined) });
    const a = assemble(r, COST, plan, sums);
    expect([...a.trimmed]).toEqual([[G('wf'), [CUR(2)]]]);
    const m = one(measure(r, plan, a.main));
    expect(m.current).toBeCloseTo(perSuccess(0.02), 12);
    expect(m.deviation).toBeCloseTo(0, 9);
    expect(m.currentRuns).toBe(6000);
    // Kept in, it is +14.3%: under a 20% threshold here, past it on a 10% rule.
    expect(one(measure(r, plan, untrimmed(r, plan, sums))).deviation).toBeCloseTo(1 / 7, 9);
    expect(trimmedExtras(plan, a.trimmed, m, groupKeyOf(r, m.labels)).extra).toEqual({ trimmed_current_day: dayIso(plan, CUR(2)) });
  });

  it('a spike on the current window\'s last day is trimmed from it, while the confirm window (that day) keeps it', () => {
    const sums = fetched(plan, { wf: (w) => (w === CUR(6) ? { cost: 0.06 } : undefined) });
    const a = assemble(r, COST, plan, sums);
    expect(a.trimmed.get(G('wf'))).toEqual([CUR(6)]);
    expect(one(measure(r, plan, a.main)).deviation).toBeCloseTo(0, 9);
    expect(one(measure(r, plan, a.confirm!)).deviation).toBeCloseTo(2, 9);
  });

  it('a dip is an outlier too, whatever the rule\'s direction (the comparison is either way)', () => {
    // -90% on one day: the baseline is 12.9% lower with it, and the day is its most outlying.
    const sums = fetched(plan, { wf: (w) => (w === BASE(0) ? { cost: 0.002 } : undefined) });
    const a = assemble(costRule({ direction: 'up' }), COST, plan, sums);
    expect(a.trimmed.get(G('wf'))).toEqual([BASE(0)]);
    expect(one(measure(r, plan, a.main)).baseline).toBeCloseTo(perSuccess(0.02), 12);
  });

  it('two groups are trimmed independently: each its own days, a clean group not at all', () => {
    const sums = fetched(plan, {
      a: (w) => (w === BASE(1) ? { cost: 0.05 } : undefined),
      b: (w) => (w === CUR(4) ? { cost: 0.06 } : w === BASE(5) ? { cost: 0.04 } : undefined),
      c: () => undefined,
    });
    const a = assemble(r, COST, plan, sums);
    expect(new Map(a.trimmed)).toEqual(
      new Map([
        [G('a'), [BASE(1)]],
        [G('b'), [CUR(4), BASE(5)]],
      ]),
    );
    const ms = measure(r, plan, a.main);
    for (const wf of ['a', 'b', 'c']) {
      expect(one(ms, wf).baseline, wf).toBeCloseTo(perSuccess(0.02), 12);
      expect(one(ms, wf).current, wf).toBeCloseTo(perSuccess(0.02), 12);
    }
    expect(one(ms, 'a').currentRuns).toBe(7000);
    expect(one(ms, 'a').baselineRuns).toBe(6000);
    expect(one(ms, 'b').currentRuns).toBe(6000);
    expect(one(ms, 'c').baselineRuns).toBe(7000);
    expect(trimmedExtras(plan, a.trimmed, one(ms, 'b'), groupKeyOf(r, one(ms, 'b').labels)).extra).toEqual({ trimmed_current_day: dayIso(plan, CUR(4)), trimmed_baseline_day: dayIso(plan, BASE(5)) });
    const clean = one(ms, 'c');
    expect(trimmedExtras(plan, a.trimmed, clean, groupKeyOf(r, clean.labels))).toBe(clean);
  });

  it('a few moving groups among many (their rows merged apart) trim as when every group is merged: the same days, the same sums', () => {
    const spikes: Record<string, (w: number) => Day | undefined> = {
      a: (w) => (w === BASE(1) ? { cost: 0.05 } : undefined),
      b: (w) => (w === CUR(4) ? { cost: 0.06 } : w === BASE(5) ? { cost: 0.04 } : undefined),
    };
    const clean = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`clean${i}`, () => undefined]));
    // 2 moving of 12 groups: merged apart; 2 of 3: the merge shared with the group's other rules.
    const fleet = assemble(r, COST, plan, fetched(plan, { ...spikes, ...clean }));
    const few = assemble(r, COST, plan, fetched(plan, { ...spikes, c: () => undefined }));
    expect(new Map(fleet.trimmed)).toEqual(new Map(few.trimmed));
    expect(new Map(fleet.trimmed)).toEqual(new Map([[G('a'), [BASE(1)]], [G('b'), [CUR(4), BASE(5)]]]));
    const of = (a: typeof fleet, wf: string) => a.main.totals.filter((x) => x.workflow_id === wf);
    for (const wf of ['a', 'b']) expect(of(fleet, wf)).toEqual(of(few, wf));
    expect(of(fleet, 'clean3')).toEqual(of(few, 'c').map((x) => ({ ...x, workflow_id: 'clean3' })));
  });

  it('trimmed extras are added to the signal\'s own extras', () => {
    const sums = fetched(plan, { wf: (w) => (w === BASE(6) ? { cost: 0.04 } : undefined) });
    const a = assemble(r, COST, plan, sums);
    const m = { ...one(measure(r, plan, a.main)), extra: { measure: 'x' } };
    expect(trimmedExtras(plan, a.trimmed, m, groupKeyOf(r, m.labels)).extra).toEqual({ measure: 'x', trimmed_baseline_day: dayIso(plan, BASE(6)) });
  });
});

describe('assemble: what is not trimmed', () => {
  const r = costRule();
  const plan = evaluationWindows(r, AT);

  it('at most one day per window per group: of two spikes, the more outlying one', () => {
    // 0.06 against the rest (5 x 0.02 + 0.04) / 6: +157%; 0.04 against (5 x 0.02 + 0.06) / 6: +50%.
    const sums = fetched(plan, { wf: (w) => (w === BASE(2) ? { cost: 0.04 } : w === BASE(4) ? { cost: 0.06 } : undefined) });
    const a = assemble(r, COST, plan, sums);
    expect(a.trimmed.get(G('wf'))).toEqual([BASE(4)]);
    expect(one(measure(r, plan, a.main)).baseline).toBeCloseTo(perSuccess((5 * 0.02 + 0.04) / 6), 12);
  });

  it('a step over most of the window is not removed: one day leaves, the change stays', () => {
    // Days 2..6 at 0.05: a stepped day against the rest is +25%, a day before the step -55.6%, so
    // one day before the step (the first, on a tie) is the one left out; the step is still +125%.
    const sums = fetched(plan, { wf: (w) => (w >= CUR(2) && w <= CUR(6) ? { cost: 0.05 } : undefined) });
    const a = assemble(r, COST, plan, sums);
    expect(a.trimmed.get(G('wf'))).toEqual([CUR(0)]);
    const m = one(measure(r, plan, a.main));
    expect(m.current).toBeCloseTo(perSuccess((5 * 0.05 + 0.02) / 6), 12);
    expect(m.deviation).toBeCloseTo(1.25, 9);
  });

  it('a step over three days: one stepped day leaves, two stay (as the fake-sums engine test expects)', () => {
    // A stepped day against (2 x 0.04 + 4 x 0.02) / 6: +50%; an unstepped one against 0.03: -33%.
    const sums = fetched(plan, { wf: (w) => (w >= CUR(4) && w <= CUR(6) ? { cost: 0.04 } : undefined) });
    const a = assemble(r, COST, plan, sums);
    expect(a.trimmed.get(G('wf'))).toEqual([CUR(4)]);
    expect(one(measure(r, plan, a.main)).current).toBeCloseTo(perSuccess((2 * 0.04 + 4 * 0.02) / 6), 12);
  });

  it('a day below the threshold either way: not trimmed, however significant', () => {
    // The current window is 15% up on every day (the comparison moves); one baseline day is up 15%
    // too: against the rest of its window far below TRIM_P, but under the 20% threshold.
    const sums = fetched(plan, { wf: (w) => (w <= CUR(6) || w === BASE(3) ? { cost: 0.023 } : undefined) });
    expect(assemble(r, COST, plan, sums).trimmed.size).toBe(0);
    // The same day on a 10% rule is trimmed.
    expect(assemble(costRule({ threshold: 0.1 }), COST, plan, sums).trimmed.get(G('wf'))).toEqual([BASE(3)]);
  });

  it('a group whose comparison does not move (under the resolve threshold either way) is not looked at', () => {
    // The same +100% day in both windows: the windows are equal, a day of each stands out on its own.
    const sums = fetched(plan, { wf: (w) => (w === CUR(3) || w === BASE(3) ? { cost: 0.04 } : undefined) });
    expect(one(measure(r, plan, untrimmed(r, plan, sums))).deviation).toBeCloseTo(0, 9);
    const a = assemble(r, COST, plan, sums);
    expect(a.trimmed.size).toBe(0);
    expect(one(measure(r, plan, a.main)).currentRuns).toBe(7000);
    // A +100% day in the baseline alone moves it by 12.5%, past the default resolve threshold (10%)
    // but not past a resolve threshold of 15%.
    const once = fetched(plan, { wf: (w) => (w === BASE(3) ? { cost: 0.04 } : undefined) });
    expect(assemble(r, COST, plan, once).trimmed.size).toBe(1);
    expect(assemble(costRule({ resolveThreshold: 0.15 }), COST, plan, once).trimmed.size).toBe(0);
  });

  it('without significance at TRIM_P: a noisy +100% day on 20 runs stays in', () => {
    // The current window is 50% up (the comparison moves); the baseline has one noisy day.
    const noisy: Day = { cost: 0.04, runs: 20, cv: 2 };
    const sums = fetched(plan, { wf: (w) => (w <= CUR(6) ? { cost: 0.03 } : w === BASE(3) ? noisy : undefined) });
    // The premise: that day against the rest of its window passes the threshold, its p does not pass TRIM_P.
    const inWindow = new Set(plan.parts[1]);
    const dayVsRest = one(COST.measure(r, plan.main, mergeWindows(r, sums, (w) => (w === BASE(3) ? 0 : inWindow.has(w) ? 1 : null))));
    expect(dayVsRest.deviation).toBeCloseTo(1, 9);
    expect(dayVsRest.test!.pValue).toBeGreaterThan(TRIM_P);
    expect(assemble(r, COST, plan, sums).trimmed.size).toBe(0);
    // The same +100% on 1000 runs with little spread is trimmed.
    const clear = fetched(plan, { wf: (w) => (w <= CUR(6) ? { cost: 0.03 } : w === BASE(3) ? { cost: 0.04 } : undefined) });
    expect(assemble(r, COST, plan, clear).trimmed.get(G('wf'))).toEqual([BASE(3)]);
  });

  it('without a test (a day of one run: no variance to estimate): not trimmed', () => {
    const sums = fetched(plan, { wf: (w) => (w <= CUR(6) ? { cost: 0.03 } : w === BASE(3) ? { cost: 1, runs: 1 } : undefined) });
    const inWindow = new Set(plan.parts[1]);
    const dayVsRest = one(COST.measure(r, plan.main, mergeWindows(r, sums, (w) => (w === BASE(3) ? 0 : inWindow.has(w) ? 1 : null))));
    expect(dayVsRest.test).toBeNull();
    expect(dayVsRest.deviation!).toBeGreaterThan(10);
    expect(assemble(r, COST, plan, sums).trimmed.size).toBe(0);
  });

  it('a day with no runs is never the outlier, and the other days still are', () => {
    const sums = fetched(plan, { wf: (w) => (w === BASE(3) ? { cost: 0.04 } : undefined) });
    const withGap: SignalSums = { totals: sums.totals.filter((row) => row.w !== BASE(0)), keyed: [] };
    expect(assemble(r, COST, plan, withGap).trimmed.get(G('wf'))).toEqual([BASE(3)]);
  });

  it('a rule that is not robust (robust: false) trims nothing and sums whole windows', () => {
    const flat = costRule({ baseline: { kind: 'previous', lengthMs: 7 * DAY, offsetMs: 0, robust: false } });
    const flatPlan = evaluationWindows(flat, AT);
    expect(flatPlan.robust).toBe(false);
    const sums: SignalSums = {
      totals: [totals(0, 'wf', NORMAL), totals(1, 'wf', { cost: 0.04, runs: 100 }), totals(2, 'wf', NORMAL)],
      keyed: [],
    };
    const a = assemble(flat, COST, flatPlan, sums);
    expect(a.trimmed.size).toBe(0);
    expect(one(measure(flat, flatPlan, a.main)).baseline).toBeCloseTo(perSuccess(0.04), 12);
    expect(a.confirm!.totals.map((row) => [row.w, row.runs])).toEqual([
      [1, 100],
      [0, 1000],
    ]);
  });

  it('without a confirm window there are no confirm sums', () => {
    const noConfirm = rule('cost_per_success', { groupBy: ['workflow_id'] });
    const p = evaluationWindows(noConfirm, AT);
    expect(assemble(noConfirm, COST, p, fetched(p, { wf: () => undefined })).confirm).toBeNull();
  });
});

describe('assemble: the confirm sums', () => {
  const r = costRule();
  const plan = evaluationWindows(r, AT);

  it('window 0 is the confirm window, window 1 the same (trimmed) baseline as the main comparison', () => {
    // The last day (and so the confirm window) costs 0.03; a baseline spike is trimmed from both
    // comparisons. The last day, +50% on the rest of its window, also leaves the current window, not
    // the confirm window.
    const sums = fetched(plan, { wf: (w) => (w === CUR(6) ? { cost: 0.03 } : w === BASE(2) ? { cost: 0.05 } : undefined) });
    const a = assemble(r, COST, plan, sums);
    expect(a.trimmed.get(G('wf'))).toEqual([CUR(6), BASE(2)]);
    const confirm = a.confirm!;
    const w0 = confirm.totals.filter((row) => row.w === 0);
    const w1 = confirm.totals.filter((row) => row.w === 1);
    expect(w0).toEqual([{ ...sums.totals.find((row) => row.w === CONFIRM)!, w: 0 }]);
    expect(w1).toEqual(a.main.totals.filter((row) => row.w === 1));
    expect(confirm.totals.every((row) => row.w === 0 || row.w === 1)).toBe(true);
    const c = one(COST.measure(r, plan.main, confirm));
    expect(c.current).toBeCloseTo(perSuccess(0.03), 12);
    expect(c.baseline).toBeCloseTo(perSuccess(0.02), 12);
    expect(c.deviation).toBeCloseTo(0.5, 9);
    expect(c.currentRuns).toBe(1000);
    expect(c.baselineRuns).toBe(6000);
  });

  it('per group: each group\'s confirm baseline leaves out that group\'s own trimmed day only', () => {
    const sums = fetched(plan, { a: (w) => (w === BASE(2) ? { cost: 0.05 } : undefined), b: () => undefined });
    const a = assemble(r, COST, plan, sums);
    const cs = COST.measure(r, plan.main, a.confirm!);
    expect(one(cs, 'a').baselineRuns).toBe(6000);
    expect(one(cs, 'b').baselineRuns).toBe(7000);
  });

  it('the inputs are not modified', () => {
    const sums = fetched(plan, { wf: (w) => (w === BASE(2) ? { cost: 0.05 } : undefined) });
    const before = structuredClone(sums);
    assemble(r, COST, plan, sums);
    expect(sums).toEqual(before);
  });
});

describe('assemble: other signals are trimmed through their own measure', () => {
  it('output_schema_shift (js_distance): a day on a foreign shape in the baseline is left out', () => {
    const r = rule('output_schema_shift', { groupBy: ['workflow_id'], threshold: 0.3 });
    const plan = evaluationWindows(r, AT);
    const totalsRows: SumsRow[] = [];
    const keyed: SumsRow[] = [];
    for (const w of plan.fetch) {
      totalsRows.push({ w: w.index, workflow_id: 'wf', runs: 500 });
      // Baseline day 4: half the runs on shape x.
      const odd = w.index === BASE(4);
      keyed.push({ w: w.index, workflow_id: 'wf', key_kind: 'fingerprint', key: 'a', value: odd ? 250 : 500 });
      if (odd) keyed.push({ w: w.index, workflow_id: 'wf', key_kind: 'fingerprint', key: 'x', value: 250 });
    }
    const sums = { totals: totalsRows, keyed };
    const a = assemble(r, SIGNAL_IMPLS.output_schema_shift, plan, sums);
    expect(a.trimmed.get(G('wf'))).toEqual([BASE(4)]);
    const [m] = SIGNAL_IMPLS.output_schema_shift.measure(r, plan.main, a.main);
    expect(m!.deviation).toBeCloseTo(0, 12);
    const [kept] = SIGNAL_IMPLS.output_schema_shift.measure(r, plan.main, untrimmed(r, plan, sums));
    expect(kept!.deviation).toBeGreaterThan(0.1);
  });
});

describe('through the store: a one-day cost spike 10 days back (chDB, evaluateRule)', () => {
  let store: TempStore;
  // 14 days of runs, every 30 minutes, cost 0.02 ± 20%; the day [AT - 10d, AT - 9d) costs twice as much.
  const SPIKE_START = AT - 10 * DAY;
  beforeAll(async () => {
    store = await openTempStore();
    const rows: AgentRunRow[] = [];
    let i = 0;
    for (let t = AT - 14 * DAY + 15 * 60_000; t < AT; t += HOUR / 2, i++) {
      const base = 0.02 * (1 + 0.2 * Math.sin(i * 1.7));
      const spike = t >= SPIKE_START && t < SPIKE_START + DAY;
      rows.push(run({ ts: new Date(t).toISOString(), outcome: i % 10 === 0 ? 'failure' : 'success', token_cost_usd: spike ? 2 * base : base }));
    }
    await resetRuns(store.ch, rows);
  });
  afterAll(async () => {
    await store?.ch.close();
  });

  it('the robust rule\'s baseline is not moved by the spike; with robust: false it is', async () => {
    const robust = series(await evaluate(store.ch, costRule({ minRuns: 10 })), { workflow_id: 'wf' });
    const flat = series(
      await evaluate(store.ch, costRule({ minRuns: 10, baseline: { kind: 'previous', lengthMs: 7 * DAY, offsetMs: 0, robust: false } })),
      { workflow_id: 'wf' },
    );
    expect(robust.extra?.trimmed_baseline_day).toBe(new Date(SPIKE_START).toISOString());
    expect(robust.extra?.trimmed_current_day).toBeUndefined();
    expect(flat.extra?.trimmed_baseline_day).toBeUndefined();
    // Robust: 6 ordinary days against 7 ordinary days, within a few percent; kept in, the spike adds
    // about a seventh to the baseline, so the current window looks ~12% cheaper.
    expect(Math.abs(robust.deviation!)).toBeLessThan(0.03);
    expect(flat.deviation!).toBeLessThan(-0.1);
    expect(flat.baseline! / robust.baseline!).toBeCloseTo(8 / 7, 1);
    expect(robust.baselineRuns).toBe(6 * 48);
    expect(flat.baselineRuns).toBe(7 * 48);
    expect(robust.currentRuns).toBe(7 * 48);
    // The confirm window (the last day) was measured against the trimmed baseline too.
    expect(robust.extra?.confirm_runs).toBe(48);
    expect(Math.abs(Number(robust.extra?.confirm_deviation))).toBeLessThan(0.05);
  });
});
