/**
 * policy_activation_rate on hand-made agent_runs rows, numbers worked out by hand. AT =
 * 2026-03-15T00:00:00Z, window 7d, baseline the previous 7d. Also: Holm correction over groups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalCdf } from '../../src/stats/index.js';
import { perDecisionSums } from '../../src/signals/policy.js';
import { signalQueries } from '../../src/signals/aggregateQuery.js';
import { windowsFor } from '../../src/signals/windows.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { AT, TABLE, base, cur, evaluate, resetRuns, rule, run, series, verdict, type AgentRunRow } from '../helpers/runs.js';

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

const policyRule = (over: Parameters<typeof rule>[1] = {}) => rule('policy_activation_rate', over);
const only = async (over: Parameters<typeof rule>[1] = {}) => {
  const ev = await evaluate(store.ch, policyRule(over));
  expect(ev.series).toHaveLength(1);
  return ev.series[0]!;
};

/**
 * current (4 runs):                       baseline (4 runs):
 *   A3 D1 E0 [pii]             -> 4 dec     A4 D2 E0 [pii, geo]     -> 6 dec
 *   A2 D0 E1 [refund_limit]    -> 3 dec     A4                      -> 4 dec
 *   A4 D1 E1 [pii, refund_l.]  -> 6 dec     A4                      -> 4 dec
 *   A4 D1 E0 [pii]             -> 5 dec     A5 D0 E1 [refund_limit] -> 6 dec
 * current: 18 decisions, 3 denials, 2 escalations; 4 runs with an activation, 3 with a denial
 * baseline: 20 decisions, 2 denials, 1 escalation; 2 runs with an activation, 1 with a denial
 */
const DATA: AgentRunRow[] = [
  run({ ts: cur(0), policy_allows: 3, policy_denials: 1, policy_escalations: 0, denied_rules: ['pii'] }),
  run({ ts: cur(1), policy_allows: 2, policy_denials: 0, policy_escalations: 1, denied_rules: ['refund_limit'] }),
  run({ ts: cur(2), policy_allows: 4, policy_denials: 1, policy_escalations: 1, denied_rules: ['pii', 'refund_limit'] }),
  run({ ts: cur(3), policy_allows: 4, policy_denials: 1, policy_escalations: 0, denied_rules: ['pii'] }),
  run({ ts: base(0), policy_allows: 4, policy_denials: 2, policy_escalations: 0, denied_rules: ['pii', 'geo'] }),
  run({ ts: base(1), policy_allows: 4 }),
  run({ ts: base(2), policy_allows: 4 }),
  run({ ts: base(3), policy_allows: 5, policy_denials: 0, policy_escalations: 1, denied_rules: ['refund_limit'] }),
];

describe('policy_activation_rate', () => {
  beforeAll(async () => {
    await resetRuns(store.ch, DATA);
  });

  it('per decision (default): (denials + escalations) / (allows + denials + escalations)', async () => {
    const s = await only({ threshold: 0.2 });
    // current: (3+2) / 18 = 0.2777778; baseline: (2+1) / 20 = 0.15; deviation = 0.2777778/0.15 - 1 = 0.8518519
    expect(s.current).toBeCloseTo(0.2777778, 6);
    expect(s.baseline).toBeCloseTo(0.15, 10);
    expect(s.deviation).toBeCloseTo(0.8518519, 6);
    expect(s.currentRuns).toBe(4);
    expect(s.baselineRuns).toBe(4);
    expect(s.isNew).toBe(false);
    expect(s.key).toBe('');
    expect(s.extra).toEqual({ activations: 5, decisions_or_runs: 18 });
    expect(verdict(s)).toBe(true);
    // Example runs are not the signal's: they are fetched after the verdict, for pending and firing series only.
    expect(s.exampleRunIds).toEqual([]);
  });

  it('contributors are the denied rules, as shares of the decisions, sorted by rise', async () => {
    const s = await only();
    // pii:          current 3 hits / 18 = 0.1666667, baseline 1 / 20 = 0.05 -> +0.1166667
    // refund_limit: current 2 / 18 = 0.1111111,      baseline 1 / 20 = 0.05 -> +0.0611111
    // geo:          current 0 / 18 = 0,              baseline 1 / 20 = 0.05 -> -0.05
    expect(s.contributors.map((c) => c.name)).toEqual(['pii', 'refund_limit', 'geo']);
    const [pii, refund, geo] = s.contributors;
    expect(pii!.current).toBeCloseTo(0.1666667, 6);
    expect(pii!.baseline).toBeCloseTo(0.05, 10);
    expect(refund!.current).toBeCloseTo(0.1111111, 6);
    expect(refund!.baseline).toBeCloseTo(0.05, 10);
    expect(geo!.current).toBe(0);
    expect(geo!.baseline).toBeCloseTo(0.05, 10);
  });

  it('escalations: false counts denials only (over all decisions)', async () => {
    const s = await only({ options: { escalations: false } });
    // current: 3 / 18 = 0.1666667; baseline: 2 / 20 = 0.1; deviation = 0.1666667/0.1 - 1 = 0.6666667
    expect(s.current).toBeCloseTo(0.1666667, 6);
    expect(s.baseline).toBeCloseTo(0.1, 10);
    expect(s.deviation).toBeCloseTo(0.6666667, 6);
    expect(s.extra).toEqual({ activations: 3, decisions_or_runs: 18 });
  });

  it('per: run is the share of runs with an activation', async () => {
    const s = await only({ options: { per: 'run' } });
    // current: 4 of 4 runs = 1.0; baseline: 2 of 4 runs = 0.5; deviation = 1.0/0.5 - 1 = 1.0
    expect(s.current).toBeCloseTo(1.0, 10);
    expect(s.baseline).toBeCloseTo(0.5, 10);
    expect(s.deviation).toBeCloseTo(1.0, 10);
    expect(s.extra).toEqual({ activations: 4, decisions_or_runs: 4 });

    const d = await only({ options: { per: 'run', escalations: false } });
    // runs with a denial: current 3 of 4 = 0.75; baseline 1 of 4 = 0.25; deviation = 0.75/0.25 - 1 = 2.0
    expect(d.current).toBeCloseTo(0.75, 10);
    expect(d.baseline).toBeCloseTo(0.25, 10);
    expect(d.deviation).toBeCloseTo(2.0, 10);
  });

  it('per decision: a ratio test over runs (decisions of a run are correlated); hand-computed z gates the alert', async () => {
    const s = await only({ threshold: 0.2, significance: 0.05 });
    // The run is the unit: X = activations, Y = decisions per run; the rate is ΣX/ΣY, its delta-method
    // variance Var(R) = Σ(X − R·Y)² / (n − 1) / (n ȳ²).
    // current: X = 1, 1, 2, 1; Y = 4, 3, 6, 5; R = 5/18 = 0.2777778, ȳ = 4.5
    //   residuals X − R·Y = (−2, 3, 6, −7)/18, Σ² = 98/324; Var(R) = (98/324)/3 / (4 · 4.5²) = 0.00124473
    // baseline: X = 2, 0, 0, 1; Y = 6, 4, 4, 6; R = 3/20 = 0.15, ȳ = 5
    //   residuals 1.1, −0.6, −0.6, 0.1, Σ² = 1.94; Var(R) = (1.94/3) / (4 · 25) = 0.00646667
    // z = (0.2777778 − 0.15) / sqrt(0.00124473 + 0.00646667) = 0.1277778 / 0.0878146 = 1.455087
    const z = 1.455087;
    expect(s.test?.name).toBe('ratio_z_delta');
    expect(s.test?.statistic).toBeCloseTo(z, 5);
    // p-value = 2 (1 - Φ(|z|)) ≈ 0.1456 (scipy: 0.1456452907973407); one test, so Holm leaves it as is.
    // (A two-proportion test over the 18 and 20 decisions would give z = 0.9647, p = 0.3347.)
    const p = 2 * (1 - normalCdf(z));
    expect(p).toBeCloseTo(0.1456453, 5);
    expect(s.test?.pValue).toBeCloseTo(p, 5);
    expect(s.pValue).toBeCloseTo(p, 5);
    // +85% is past the 20% threshold, but p ≈ 0.15 is not below 0.05: no alert
    expect(s.deviation).toBeGreaterThan(0.2);
    expect(verdict(s)).toBe(false);
  });

  it('per: run: a two-proportion z-test over runs, hand-computed', async () => {
    const s = await only({ threshold: 0.2, significance: 0.05, options: { per: 'run' } });
    // runs with an activation: current 4 of 4, baseline 2 of 4; pooled 6/8 = 0.75
    // z = (1 − 0.5) / sqrt(0.75 · 0.25 · (1/4 + 1/4)) = 0.5 / 0.3061862 = 1.632993; p = 0.1024704
    expect(s.test?.name).toBe('two_proportion_z');
    expect(s.test?.statistic).toBeCloseTo(1.632993, 5);
    expect(s.test?.pValue).toBeCloseTo(0.1024704, 6);
    expect(verdict(s)).toBe(false);
  });

  it('returns the per-run sums the ratio test needs (hand-checked)', async () => {
    const r = policyRule();
    const q = signalQueries(r, TABLE, windowsFor(r.windowMs, r.baseline, AT), null).totals;
    const rows = await store.ch.query<Record<string, unknown>>(q.sql, q.params);
    const byW = Object.fromEntries(rows.map((x) => [Number(x.w), x]));
    const pick = (w: number, escalations = true) => {
      const s = perDecisionSums(byW[w]!, escalations);
      return [s.n, s.sumX, s.sumY, s.sumXSq, s.sumYSq, s.sumXY];
    };
    // current X = 1, 1, 2, 1; Y = 4, 3, 6, 5: ΣX 5, ΣY 18, ΣX² 1+1+4+1 = 7, ΣY² 16+9+36+25 = 86, ΣXY 4+3+12+5 = 24
    expect(pick(0)).toEqual([4, 5, 18, 7, 86, 24]);
    // baseline X = 2, 0, 0, 1; Y = 6, 4, 4, 6: ΣX 3, ΣY 20, ΣX² 4+1 = 5, ΣY² 36+16+16+36 = 104, ΣXY 12+6 = 18
    expect(pick(1)).toEqual([4, 3, 20, 5, 104, 18]);
    // escalations: false -> X = denials: current 1, 0, 1, 1: ΣX² 3, ΣXY 4+6+5 = 15
    const [, sumX, , sumXSq, , sumXY] = pick(0, false);
    expect([sumX, sumXSq, sumXY]).toEqual([3, 3, 15]);
  });

  it('direction: a rise fires on up and both, not on down', async () => {
    expect(verdict(await only({ threshold: 0.5, direction: 'up' }))).toBe(true);
    expect(verdict(await only({ threshold: 0.5, direction: 'both' }))).toBe(true);
    expect(verdict(await only({ threshold: 0.5, direction: 'down' }))).toBe(false);
  });
});

describe('policy_activation_rate: certain cases', () => {
  /** Two current and two baseline runs, each [allows, denials]. */
  const fourRuns = (current: [number, number][], baseline: [number, number][]) =>
    resetRuns(store.ch, [
      ...current.map(([allows, denials], i) => run({ ts: cur(i), policy_allows: allows, policy_denials: denials })),
      ...baseline.map(([allows, denials], i) => run({ ts: base(i), policy_allows: allows, policy_denials: denials })),
    ]);

  it('per decision: the same rate in every run of both windows is certainly no change, p = 1', async () => {
    // Each run 1 activation in 5 decisions (or 2 in 10): R = 0.2 in every run, residuals all 0.
    await fourRuns([[4, 1], [8, 2]], [[4, 1], [4, 1]]);
    const s = await only({ threshold: 0.2, significance: 0.05 });
    expect(s.current).toBeCloseTo(0.2, 10);
    expect(s.test).toEqual({ name: 'ratio_z_delta', statistic: 0, pValue: 1 });
  });

  it('per decision: 2 in 5 in every current run against 1 in 5 before is certainly a change, p = 0', async () => {
    await fourRuns([[3, 2], [3, 2]], [[4, 1], [4, 1]]);
    const up = await only({ threshold: 0.2, significance: 0.05 });
    expect(up.deviation).toBeCloseTo(1.0, 10);
    expect(up.test).toEqual({ name: 'ratio_z_delta', statistic: Number.POSITIVE_INFINITY, pValue: 0 });
    expect(verdict(up)).toBe(true);
  });
});

describe('policy_activation_rate: a drop', () => {
  it('fires on down and both, not on up', async () => {
    // current: 4 runs x 5 allows, one of them with 1 denial -> 1 / 21 decisions; baseline 4 runs A4 D1 -> 4 / 20
    await resetRuns(store.ch, [
      run({ ts: cur(0), policy_allows: 5, policy_denials: 1, denied_rules: ['pii'] }),
      ...[1, 2, 3].map((d) => run({ ts: cur(d), policy_allows: 5 })),
      ...[0, 1, 2, 3].map((d) => run({ ts: base(d), policy_allows: 4, policy_denials: 1, denied_rules: ['pii'] })),
    ]);
    const s = await only({ threshold: 0.5, direction: 'down' });
    // current: 1 / (6+5+5+5) = 1/21 = 0.0476190; baseline: 4 / 20 = 0.2; deviation = 0.0476190/0.2 - 1 = -0.7619048
    expect(s.current).toBeCloseTo(0.047619, 6);
    expect(s.baseline).toBeCloseTo(0.2, 10);
    expect(s.deviation).toBeCloseTo(-0.7619048, 6);
    expect(verdict(s)).toBe(true);
    expect(verdict(await only({ threshold: 0.5, direction: 'both' }))).toBe(true);
    expect(verdict(await only({ threshold: 0.5, direction: 'up' }))).toBe(false);
    // -76% does not pass an 80% threshold
    expect(verdict(await only({ threshold: 0.8, direction: 'down' }))).toBe(false);
  });
});

describe('Holm correction over the groups of a rule', () => {
  it('a p-value significant alone is not after correction over two groups', async () => {
    // wf_a: current 4 runs x 5 decisions with 3, 1, 2, 3 denials -> 9/20 = 0.45
    //       baseline 4 runs x 5 decisions with 1, 0, 2, 0 denials -> 3/20 = 0.15
    // wf_b: 1 denial in 4 runs of 5 decisions in both windows -> 4/20 = 0.2 vs 0.2
    await resetRuns(store.ch, [
      ...[3, 1, 2, 3].map((d, i) => run({ ts: cur(i), workflow_id: 'wf_a', policy_allows: 5 - d, policy_denials: d })),
      ...[1, 0, 2, 0].map((d, i) => run({ ts: base(i), workflow_id: 'wf_a', policy_allows: 5 - d, policy_denials: d })),
      ...[0, 1, 2, 3].map((i) => run({ ts: cur(i), workflow_id: 'wf_b', policy_allows: 4, policy_denials: 1 })),
      ...[0, 1, 2, 3].map((i) => run({ ts: base(i), workflow_id: 'wf_b', policy_allows: 4, policy_denials: 1 })),
    ]);
    const ev = await evaluate(store.ch, policyRule({ groupBy: ['workflow_id'], threshold: 0.5, significance: 0.05 }));
    const a = series(ev, { workflow_id: 'wf_a' });
    const b = series(ev, { workflow_id: 'wf_b' });
    // wf_a: deviation = 0.45/0.15 - 1 = 2.0
    expect(a.deviation).toBeCloseTo(2.0, 10);
    // Ratio test over runs; with 5 decisions in every run, X − R·Y = X − mean(X), so
    // Var(R) = s²(X) / (n · 5²): current X = 3, 1, 2, 3 (mean 2.25, s² = 2.75/3 = 0.9166667),
    // baseline X = 1, 0, 2, 0 (mean 0.75, s² = 0.9166667). z = (0.45 − 0.15) / sqrt(2 · 0.9166667 / 100)
    // = 0.3 / 0.1354006 = 2.215647
    const zA = 2.215647;
    const rawA = 2 * (1 - normalCdf(zA)); // ≈ 0.02672 (scipy: 0.026715698447179453)
    expect(rawA).toBeCloseTo(0.02672, 4);
    expect(a.test?.statistic).toBeCloseTo(zA, 5);
    expect(a.test?.pValue).toBeCloseTo(rawA, 5);
    // wf_b: R = 0.2 in every run of both windows -> certainly equal: z = 0, p = 1
    expect(b.test?.statistic).toBe(0);
    expect(b.test?.pValue).toBe(1);
    // Holm, m = 2: smallest p -> min(1, 2 · 0.02672) = 0.05343; next -> max(0.05343, min(1, 1 · 1)) = 1
    expect(a.pValue).toBeCloseTo(2 * rawA, 5);
    expect(b.pValue).toBeCloseTo(1, 10);
    // `significance` bounds false alerts over 30 days of looks, so one look's level is far below
    // 0.05 (engine/verdict.ts, lookLevel): four runs a window never page, corrected or not.
    expect(verdict(a)).toBe(false);
    expect(verdict(b)).toBe(false);

    // The same rule over wf_a alone: m = 1, the p-value is the raw one.
    const alone = await evaluate(store.ch, policyRule({ groupBy: ['workflow_id'], where: { workflow_id: 'wf_a' }, threshold: 0.5, significance: 0.05 }));
    expect(alone.series).toHaveLength(1);
    expect(alone.series[0]!.pValue).toBeCloseTo(rawA, 5);
  });
});
