/**
 * policy_activation_rate on hand-made agent_runs rows, numbers worked out by hand. AT =
 * 2026-03-15T00:00:00Z, window 7d, baseline the previous 7d. Also: Holm correction over groups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalCdf } from '../src/stats/index.js';
import { openTempStore, type TempStore } from './helpers/chdb.js';
import { base, cur, evaluate, resetRuns, rule, run, series, verdict, type AgentRunRow } from './helpers/runs.js';

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
    // examples: current runs with an activation (all 4 here, at most 3 listed)
    expect(s.exampleRunIds).toHaveLength(3);
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

  it('two-proportion z-test: p-value matches a hand-computed z, and gates the alert', async () => {
    const s = await only({ threshold: 0.2, significance: 0.05 });
    // p1 = 5/18 = 0.2777778, p2 = 3/20 = 0.15, pooled p = 8/38 = 0.2105263
    // z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2)) = 0.1277778 / sqrt(0.2105263·0.7894737·(1/18 + 1/20))
    //   = 0.1277778 / sqrt(0.1662050·0.1055556) = 0.1277778 / sqrt(0.01754386) = 0.1277778 / 0.1324532 = 0.964701
    const z = 0.964701;
    expect(s.test?.name).toBe('two_proportion_z');
    expect(s.test?.statistic).toBeCloseTo(z, 5);
    // p-value = 2 (1 - Φ(|z|)) ≈ 0.3347; one test, so Holm leaves it as is
    const p = 2 * (1 - normalCdf(z));
    expect(p).toBeCloseTo(0.3347, 3);
    expect(s.test?.pValue).toBeCloseTo(p, 5);
    expect(s.pValue).toBeCloseTo(p, 5);
    // +85% is past the 20% threshold, but p ≈ 0.33 is not below 0.05: no alert
    expect(s.deviation).toBeGreaterThan(0.2);
    expect(verdict(s)).toBe(false);
  });

  it('direction: a rise fires on up and both, not on down', async () => {
    expect(verdict(await only({ threshold: 0.5, direction: 'up' }))).toBe(true);
    expect(verdict(await only({ threshold: 0.5, direction: 'both' }))).toBe(true);
    expect(verdict(await only({ threshold: 0.5, direction: 'down' }))).toBe(false);
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
    // wf_a: current 4 runs x 5 decisions with 2, 2, 2, 3 denials -> 9/20 = 0.45
    //       baseline 4 runs x 5 decisions with 1, 1, 1, 0 denials -> 3/20 = 0.15
    // wf_b: 1 denial in 4 runs of 5 decisions in both windows -> 4/20 = 0.2 vs 0.2
    await resetRuns(store.ch, [
      ...[2, 2, 2, 3].map((d, i) => run({ ts: cur(i), workflow_id: 'wf_a', policy_allows: 5 - d, policy_denials: d })),
      ...[1, 1, 1, 0].map((d, i) => run({ ts: base(i), workflow_id: 'wf_a', policy_allows: 5 - d, policy_denials: d })),
      ...[0, 1, 2, 3].map((i) => run({ ts: cur(i), workflow_id: 'wf_b', policy_allows: 4, policy_denials: 1 })),
      ...[0, 1, 2, 3].map((i) => run({ ts: base(i), workflow_id: 'wf_b', policy_allows: 4, policy_denials: 1 })),
    ]);
    const ev = await evaluate(store.ch, policyRule({ groupBy: ['workflow_id'], threshold: 0.5, significance: 0.05 }));
    const a = series(ev, { workflow_id: 'wf_a' });
    const b = series(ev, { workflow_id: 'wf_b' });
    // wf_a: deviation = 0.45/0.15 - 1 = 2.0
    expect(a.deviation).toBeCloseTo(2.0, 10);
    // pooled p = 12/40 = 0.3; z = 0.3 / sqrt(0.3·0.7·(1/20 + 1/20)) = 0.3 / sqrt(0.021) = 0.3 / 0.1449138 = 2.070197
    const zA = 2.070197;
    const rawA = 2 * (1 - normalCdf(zA)); // ≈ 0.03843
    expect(rawA).toBeCloseTo(0.03843, 4);
    expect(a.test?.statistic).toBeCloseTo(zA, 5);
    expect(a.test?.pValue).toBeCloseTo(rawA, 5);
    // wf_b: equal proportions -> z = 0, p = 1
    expect(b.test?.statistic).toBeCloseTo(0, 10);
    expect(b.test?.pValue).toBeCloseTo(1, 10);
    // Holm, m = 2: smallest p -> min(1, 2 · 0.03843) = 0.07686; next -> max(0.07686, min(1, 1 · 1)) = 1
    expect(a.pValue).toBeCloseTo(2 * rawA, 5);
    expect(b.pValue).toBeCloseTo(1, 10);
    // 0.0769 >= 0.05: the +200% rise in wf_a does not page
    expect(verdict(a)).toBe(false);
    expect(verdict(b)).toBe(false);

    // The same rule over wf_a alone: m = 1, p = 0.0384 < 0.05 -> fires
    const alone = await evaluate(store.ch, policyRule({ groupBy: ['workflow_id'], where: { workflow_id: 'wf_a' }, threshold: 0.5, significance: 0.05 }));
    expect(alone.series).toHaveLength(1);
    expect(alone.series[0]!.pValue).toBeCloseTo(rawA, 5);
    expect(verdict(alone.series[0]!)).toBe(true);
  });
});
