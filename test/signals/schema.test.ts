/**
 * output_schema_shift on hand-made agent_runs rows, numbers worked out by hand. AT =
 * 2026-03-15T00:00:00Z, window 7d, baseline the previous 7d.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { base, cur, evaluate, resetRuns, rule, run, verdict, type AgentRunRow } from '../helpers/runs.js';

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

const schemaRule = (over: Parameters<typeof rule>[1] = {}) => rule('output_schema_shift', over);
const only = async (over: Parameters<typeof rule>[1] = {}) => {
  const ev = await evaluate(store.ch, schemaRule(over));
  expect(ev.series).toHaveLength(1);
  return ev.series[0]!;
};

const runs = (n: number, ts: (i: number) => string, fp: string): AgentRunRow[] =>
  Array.from({ length: n }, (_, i) => run({ ts: ts(i), output_schema_fingerprint: fp }));

/** current 10 runs: A 5, B 2, NEW 3; baseline 10 runs: A 6, B 4. */
const DATA: AgentRunRow[] = [
  ...runs(5, (i) => cur(i % 7, 1), 'fp_a'),
  ...runs(2, (i) => cur(i % 7, 2), 'fp_b'),
  ...runs(3, (i) => cur(i % 7, 3), 'fp_new'),
  ...runs(6, (i) => base(i % 7, 1), 'fp_a'),
  ...runs(4, (i) => base(i % 7, 2), 'fp_b'),
];

describe('output_schema_shift: a fingerprint absent from the baseline', () => {
  beforeAll(async () => {
    await resetRuns(store.ch, DATA);
  });

  it('unseen_share = share of current runs on fingerprints unseen in the baseline', async () => {
    const s = await only({ options: { measure: 'unseen_share' }, threshold: 0.25 });
    // 3 of 10 current runs on fp_new -> 0.3
    expect(s.current).toBeCloseTo(0.3, 10);
    expect(s.deviation).toBeCloseTo(0.3, 10);
    expect(s.baseline).toBe(0);
    expect(s.currentRuns).toBe(10);
    expect(s.baselineRuns).toBe(10);
    expect(s.extra?.measure).toBe('unseen_share');
    expect(verdict(s)).toBe(true); // 0.3 >= 0.25
  });

  it('js_distance hand computed; chi-square with the sparse fingerprints pooled', async () => {
    const s = await only({ threshold: 0.4 });
    // P (current) = (A 0.5, B 0.2, NEW 0.3); Q (baseline) = (0.6, 0.4, 0); M = (P+Q)/2 = (0.55, 0.3, 0.15)
    // KL(P||M) = 0.5 log2(0.5/0.55) + 0.2 log2(0.2/0.3) + 0.3 log2(0.3/0.15)
    //          = 0.5 (-0.1375035) + 0.2 (-0.5849625) + 0.3 (1) = 0.1142557
    // KL(Q||M) = 0.6 log2(0.6/0.55) + 0.4 log2(0.4/0.3) + 0 = 0.6 (0.1255309) + 0.4 (0.4150375) = 0.2413335
    // JSD = 1/2 KL(P||M) + 1/2 KL(Q||M) = 0.1777946 bits; distance = sqrt(0.1777946) = 0.421657
    expect(s.extra?.measure).toBe('js_distance');
    expect(s.current).toBeCloseTo(0.421657, 5);
    expect(s.deviation).toBeCloseTo(0.421657, 5);
    expect(s.extra?.js_distance).toBeCloseTo(0.421657, 5);
    expect(s.extra?.unseen_share).toBeCloseTo(0.3, 10);
    expect(verdict(s)).toBe(true); // 0.4217 >= 0.4
    // chi-square: rows 10 / 10, columns A 11, B 6, NEW 3, N 20 -> expected 5.5, 3, 1.5 in both rows.
    // B and NEW are expected below 5: pooled into one column, 5 / 4 (expected 4.5, still below 5, but
    // A has to stay as the other column). Table (pooled, A) = [[5, 5], [4, 6]]:
    // X² = 2 (0.5²/4.5) + 2 (0.5²/5.5) = 0.1111111 + 0.0909091 = 0.2020202, df 1, p = 0.6530951
    // (unpooled, 2x3: X² = 3.7575758, df 2, p = 0.152775, from cells with expected counts of 1.5)
    expect(s.test?.name).toBe('chi_square');
    expect(s.test?.statistic).toBeCloseTo(0.2020202, 6);
    expect(s.test?.df).toBe(1);
    expect(s.test?.pValue).toBeCloseTo(0.6530951, 6);
  });

  it('measure chooses which effect size is `current` and meets the threshold', async () => {
    // threshold 0.35: unseen_share 0.3 < 0.35, js_distance 0.4217 >= 0.35
    const js = await only({ threshold: 0.35, options: { measure: 'js_distance' } });
    const unseen = await only({ threshold: 0.35, options: { measure: 'unseen_share' } });
    expect(js.current).toBeCloseTo(0.421657, 5);
    expect(unseen.current).toBeCloseTo(0.3, 10);
    expect(verdict(js)).toBe(true);
    expect(verdict(unseen)).toBe(false);
    // threshold 0.5: neither
    expect(verdict(await only({ threshold: 0.5, options: { measure: 'js_distance' } }))).toBe(false);
  });

  it('contributors are fingerprints sorted by the size of their share change', async () => {
    const s = await only();
    // fp_new: 0.3 - 0 = +0.3; fp_b: 0.2 - 0.4 = -0.2; fp_a: 0.5 - 0.6 = -0.1
    expect(s.contributors.map((c) => c.name)).toEqual(['fp_new', 'fp_b', 'fp_a']);
    const [fpNew, fpB, fpA] = s.contributors;
    expect(fpNew!.current).toBeCloseTo(0.3, 10);
    expect(fpNew!.baseline).toBe(0);
    expect(fpB!.current).toBeCloseTo(0.2, 10);
    expect(fpB!.baseline).toBeCloseTo(0.4, 10);
    expect(fpA!.current).toBeCloseTo(0.5, 10);
    expect(fpA!.baseline).toBeCloseTo(0.6, 10);
    // Example runs are not the signal's: they are fetched after the verdict, for pending and firing series only.
    expect(s.exampleRunIds).toEqual([]);
  });
});

describe('output_schema_shift: a long tail of rare fingerprints', () => {
  it('is pooled for the test only; effect sizes and contributors keep every fingerprint', async () => {
    // current 20 runs: A 8, B 6, r1 3, r2 1, r3 2;  baseline 20 runs: A 9, B 6, r1 2, r3 1, r4 2
    await resetRuns(store.ch, [
      ...runs(8, (i) => cur(i % 7, 1), 'fp_a'),
      ...runs(6, (i) => cur(i % 7, 2), 'fp_b'),
      ...runs(3, (i) => cur(i % 7, 3), 'fp_r1'),
      ...runs(1, (i) => cur(i % 7, 4), 'fp_r2'),
      ...runs(2, (i) => cur(i % 7, 5), 'fp_r3'),
      ...runs(9, (i) => base(i % 7, 1), 'fp_a'),
      ...runs(6, (i) => base(i % 7, 2), 'fp_b'),
      ...runs(2, (i) => base(i % 7, 3), 'fp_r1'),
      ...runs(1, (i) => base(i % 7, 5), 'fp_r3'),
      ...runs(2, (i) => base(i % 7, 4), 'fp_r4'),
    ]);
    const s = await only({ threshold: 0.2 });
    // Expected counts (rows 20 / 20, N 40) = column total / 2: r2 0.5, r4 1, r3 1.5, r1 2.5 -> all
    // below 5, pooled rarest first: 6 / 5 (expected 5.5 >= 5). A (8.5) and B (6) stay.
    // Table (pooled, A, B) = [[6, 8, 6], [5, 9, 6]]: X² = 2 (0.5²/5.5) + 2 (0.5²/8.5) + 0
    //   = 0.0909091 + 0.0588235 = 0.1497326, df 2, p = exp(-X²/2) = 0.9278675
    expect(s.test?.statistic).toBeCloseTo(0.1497326, 6);
    expect(s.test?.df).toBe(2);
    expect(s.test?.pValue).toBeCloseTo(0.9278675, 6);
    // JS distance over all six fingerprints: P = (8, 6, 3, 1, 2, 0)/20, Q = (9, 6, 2, 0, 1, 2)/20 -> 0.2929512
    expect(s.extra?.js_distance).toBeCloseTo(0.2929512, 6);
    // unseen: r2 is new, 1 of 20 current runs
    expect(s.extra?.unseen_share).toBeCloseTo(0.05, 10);
    expect(s.contributors.map((c) => c.name)).not.toContain('__sparse__');
  });
});

describe('output_schema_shift: identical distributions', () => {
  it('give 0 on both measures and do not fire', async () => {
    // current A 2, B 1 -> (2/3, 1/3); baseline A 4, B 2 -> (2/3, 1/3)
    await resetRuns(store.ch, [
      ...runs(2, (i) => cur(i, 1), 'fp_a'),
      ...runs(1, (i) => cur(i, 2), 'fp_b'),
      ...runs(4, (i) => base(i, 1), 'fp_a'),
      ...runs(2, (i) => base(i, 2), 'fp_b'),
    ]);
    for (const measure of ['js_distance', 'unseen_share'] as const) {
      const s = await only({ threshold: 0.05, options: { measure } });
      expect(s.current, measure).toBeCloseTo(0, 12);
      expect(s.extra?.js_distance).toBeCloseTo(0, 12);
      expect(s.extra?.unseen_share).toBe(0);
      // chi-square: observed = expected everywhere -> X² = 0, p = 1
      expect(s.test?.statistic).toBeCloseTo(0, 12);
      expect(s.test?.pValue).toBeCloseTo(1, 12);
      expect(verdict(s), measure).toBe(false);
    }
  });
});
