import { describe, expect, it } from 'vitest';
import {
  chiSquareTest,
  gTest,
  ratioZTest,
  studentTTwoSidedPValue,
  twoProportionZTest,
  welchTTest,
  type MomentSums,
  type ProportionCounts,
  type RatioSums,
} from '../src/stats/index.js';

/** The sums ClickHouse would return for these runs, built from the explicit values the references use. */
function momentSums(xs: readonly number[]): MomentSums {
  return { n: xs.length, sum: xs.reduce((s, x) => s + x, 0), sumSq: xs.reduce((s, x) => s + x * x, 0) };
}

function ratioSums(xs: readonly number[], ys: readonly number[]): RatioSums {
  const sum = (f: (i: number) => number): number => xs.reduce((s, _, i) => s + f(i), 0);
  return {
    n: xs.length,
    sumX: sum((i) => xs[i]!),
    sumXSq: sum((i) => xs[i]! ** 2),
    sumY: sum((i) => ys[i]!),
    sumYSq: sum((i) => ys[i]! ** 2),
    sumXY: sum((i) => xs[i]! * ys[i]!),
  };
}

function sampleVariance(xs: readonly number[]): number {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
}

describe('welchTTest', () => {
  // Reference: scipy 1.17.1 stats.ttest_ind(x, y, equal_var=False) on these exact values
  //   statistic -3.3257339006507673, pvalue 0.0069208882458181645, df 10.806901633465733
  // (R's t.test(x, y) runs the same Welch test.)
  const x = [19.1, 21.4, 20.2, 22.8, 18.9, 20.5, 21.9];
  const y = [22.3, 24.1, 21.7, 25.6, 23.2, 22.9];

  it('matches the Welch test on two explicit samples, fed through their sums', () => {
    const r = welchTTest(momentSums(x), momentSums(y));
    expect(r).not.toBeNull();
    expect(r!.statistic).toBeCloseTo(-3.3257339006507673, 10);
    expect(r!.df).toBeCloseTo(10.806901633465733, 10);
    expect(r!.pValue).toBeCloseTo(0.0069, 4);
    expect(r!.pValue).toBeCloseTo(0.0069208882458181645, 10);
  });

  it('is antisymmetric in its arguments', () => {
    const ab = welchTTest(momentSums(x), momentSums(y))!;
    const ba = welchTTest(momentSums(y), momentSums(x))!;
    expect(ba.statistic).toBeCloseTo(-ab.statistic, 12);
    expect(ba.pValue).toBeCloseTo(ab.pValue, 14);
    expect(ba.df).toBeCloseTo(ab.df!, 12);
  });

  it('reduces to a one-sample t-test when one side has zero variance', () => {
    // scipy stats.ttest_1samp([1,2,3,4,5], 5): statistic -2.82842712474619 (= -2√2), pvalue
    // 0.04742065558431961, df 4; ttest_ind(..., [5,5,5,5], equal_var=False) gives the same.
    const r = welchTTest(momentSums([1, 2, 3, 4, 5]), momentSums([5, 5, 5, 5]))!;
    expect(r.statistic).toBeCloseTo(-2 * Math.SQRT2, 12);
    expect(r.df).toBe(4);
    expect(r.pValue).toBeCloseTo(0.04742065558431961, 12);
    const flipped = welchTTest(momentSums([5, 5, 5, 5]), momentSums([1, 2, 3, 4, 5]))!;
    expect(flipped.df).toBe(4);
    expect(flipped.statistic).toBeCloseTo(2 * Math.SQRT2, 12);
  });

  it('treats constants whose sums carry rounding noise as zero variance', () => {
    // 0.1 is not representable: summing it 1000 times leaves Σx² − (Σx)²/n at a few ulp, not 0.
    const constantA = momentSums(Array.from({ length: 1000 }, () => 0.1));
    const constantB = momentSums(Array.from({ length: 1000 }, () => 0.3));
    expect(welchTTest(constantA, constantB)).toBeNull();
    const varying = [0.05, 0.1, 0.15, 0.12, 0.08, 0.1];
    const r = welchTTest(momentSums(varying), constantB)!;
    expect(r.df).toBeCloseTo(varying.length - 1, 9);
  });

  it.each<[string, MomentSums, MomentSums]>([
    ['n < 2 on the current side', { n: 1, sum: 3, sumSq: 9 }, momentSums([1, 2, 3])],
    ['n < 2 on the baseline side', momentSums([1, 2, 3]), { n: 0, sum: 0, sumSq: 0 }],
    ['zero variance on both sides', momentSums([2, 2, 2]), momentSums([3, 3])],
    ['zero variance and equal means', momentSums([2, 2, 2]), momentSums([2, 2])],
    ['non-finite sums', { n: 3, sum: Number.NaN, sumSq: 1 }, momentSums([1, 2, 3])],
  ])('is undefined (null) for %s', (_, a, b) => {
    expect(welchTTest(a, b)).toBeNull();
  });

  it('gives t = 0 and p = 1 for equal means', () => {
    const r = welchTTest(momentSums([1, 2, 3]), momentSums([0, 2, 4]))!;
    expect(r.statistic).toBe(0);
    expect(r.pValue).toBe(1);
  });

  it('stays finite and normal-like for very large samples', () => {
    // Two windows of a million runs, sample variance 1, means 1.003 and 1: Σx² = (n−1)·s² + n·mean².
    // t = 0.003 / sqrt(2e-6) = 2.1213203435596424 with df ≈ 2e6, practically normal.
    const n = 1e6;
    const a: MomentSums = { n, sum: n * 1.003, sumSq: n - 1 + n * 1.003 ** 2 };
    const b: MomentSums = { n, sum: n, sumSq: n - 1 + n };
    const r = welchTTest(a, b)!;
    expect(r.df).toBeGreaterThan(1.9e6);
    expect(r.statistic).toBeCloseTo(2.1213203435596424, 8);
    expect(r.pValue).toBeCloseTo(studentTTwoSidedPValue(r.statistic, r.df!), 14);
    // 2 * scipy.stats.norm.sf(2.121320343559643) = 0.033894853524689246
    expect(r.pValue).toBeCloseTo(0.0339, 4);
  });
});

describe('ratioZTest (cost per success)', () => {
  // X = cost of a run, Y = 1 if it succeeded.
  const baselineCost = [0.12, 0.3, 0.25, 0.08, 0.4, 0.22, 0.15, 0.33];
  const baselineOk = [1, 1, 0, 1, 1, 0, 1, 1];
  const currentCost = [0.2, 0.35, 0.28, 0.41, 0.19, 0.5, 0.26];
  const currentOk = [1, 0, 1, 1, 0, 1, 0];

  it('matches the delta-method z computed from the raw runs', () => {
    // numpy on the arrays above, with the covariance matrix np.cov(X, Y, ddof=1) plugged into
    //   Var(R) = (Var X/μy² − 2 μx Cov/μy³ + μx² Var Y/μy⁴) / n:
    //   R_current 0.5475, R_baseline 0.30833333333333335, Var 0.03205963541666667 and
    //   0.007381481481481482, z 1.2042760467886369, p 2·norm.sf(z) 0.22848290162455864
    const r = ratioZTest(ratioSums(currentCost, currentOk), ratioSums(baselineCost, baselineOk))!;
    expect(r.statistic).toBeCloseTo(1.2042760467886369, 12);
    expect(r.pValue).toBeCloseTo(0.22848290162455864, 12);
    expect(r.df).toBeUndefined();
  });

  it('agrees with the residual form Var(X − R·Y) / (n μy²) computed run by run', () => {
    // A second route to the same variance that never forms a covariance from sums.
    const varianceOf = (xs: number[], ys: number[]): { r: number; v: number } => {
      const my = ys.reduce((s, y) => s + y, 0) / ys.length;
      const r = xs.reduce((s, x) => s + x, 0) / xs.length / my;
      return { r, v: sampleVariance(xs.map((x, i) => x - r * ys[i]!)) / (xs.length * my * my) };
    };
    const c = varianceOf(currentCost, currentOk);
    const b = varianceOf(baselineCost, baselineOk);
    const z = (c.r - b.r) / Math.sqrt(c.v + b.v);
    const r = ratioZTest(ratioSums(currentCost, currentOk), ratioSums(baselineCost, baselineOk))!;
    expect(r.statistic).toBeCloseTo(z, 12);
  });

  it('equals the Welch statistic on X when every run succeeds (the ratio is then just the mean)', () => {
    const ones = (n: number): number[] => Array.from({ length: n }, () => 1);
    const r = ratioZTest(ratioSums(currentCost, ones(7)), ratioSums(baselineCost, ones(8)))!;
    const t = welchTTest(momentSums(currentCost), momentSums(baselineCost))!;
    expect(r.statistic).toBeCloseTo(t.statistic, 12);
  });

  it('does not depend on the currency unit', () => {
    const cents = (xs: number[]): number[] => xs.map((x) => x * 100);
    const usd = ratioZTest(ratioSums(currentCost, currentOk), ratioSums(baselineCost, baselineOk))!;
    const c = ratioZTest(ratioSums(cents(currentCost), currentOk), ratioSums(cents(baselineCost), baselineOk))!;
    expect(c.statistic).toBeCloseTo(usd.statistic, 12);
  });

  it.each<[string, RatioSums, RatioSums]>([
    ['no successes in the current window', ratioSums([0.1, 0.2, 0.3], [0, 0, 0]), ratioSums(baselineCost, baselineOk)],
    ['no successes in the baseline', ratioSums(currentCost, currentOk), ratioSums([0.1, 0.2], [0, 0])],
    ['a single run', ratioSums([0.1], [1]), ratioSums(baselineCost, baselineOk)],
    ['constant cost, all successes, both sides', ratioSums([0.1, 0.1, 0.1], [1, 1, 1]), ratioSums([0.2, 0.2], [1, 1])],
  ])('is undefined (null) for %s', (_, a, b) => {
    expect(ratioZTest(a, b)).toBeNull();
  });
});

describe('twoProportionZTest', () => {
  it('matches the pooled z-test, and its square is the 2×2 chi-square', () => {
    // 45/100 vs 30/100: pooled p = 0.375, se = sqrt(0.375·0.625·(2/100)) = 0.0684653..., z = 0.15 / se
    // = 2.1908902300206643. Independently, scipy stats.chi2_contingency([[45,55],[30,70]],
    // correction=False) gives statistic 4.8 (= z²) and pvalue 0.028459736916310638.
    const r = twoProportionZTest({ successes: 45, trials: 100 }, { successes: 30, trials: 100 })!;
    expect(r.statistic).toBeCloseTo(2.1908902300206643, 12);
    expect(r.statistic ** 2).toBeCloseTo(4.8, 12);
    expect(r.pValue).toBeCloseTo(0.028459736916310638, 12);
    const chi = chiSquareTest({ current: { yes: 45, no: 55 }, baseline: { yes: 30, no: 70 } })!;
    expect(chi.statistic).toBeCloseTo(r.statistic ** 2, 12);
    expect(chi.pValue).toBeCloseTo(r.pValue, 12);
  });

  it('handles unequal sample sizes and a zero on one side', () => {
    // 0/50 vs 6/120: pooled p = 6/170, z = −0.05 / sqrt(p(1−p)(1/50 + 1/120)) ≈ −1.6098; scipy
    // chi2_contingency([[0,50],[6,114]], correction=False): statistic 2.591463414634146 (= z²),
    // pvalue 0.1074410250253764.
    const r = twoProportionZTest({ successes: 0, trials: 50 }, { successes: 6, trials: 120 })!;
    expect(r.statistic).toBeLessThan(0);
    expect(r.statistic ** 2).toBeCloseTo(2.591463414634146, 12);
    expect(r.pValue).toBeCloseTo(0.1074410250253764, 12);
  });

  it.each<[string, ProportionCounts, ProportionCounts]>([
    ['no trials on one side', { successes: 0, trials: 0 }, { successes: 3, trials: 10 }],
    ['pooled proportion 0', { successes: 0, trials: 10 }, { successes: 0, trials: 20 }],
    ['pooled proportion 1', { successes: 10, trials: 10 }, { successes: 20, trials: 20 }],
    ['more successes than trials', { successes: 11, trials: 10 }, { successes: 3, trials: 10 }],
    ['negative counts', { successes: -1, trials: 10 }, { successes: 3, trials: 10 }],
  ])('is undefined (null) for %s', (_, a, b) => {
    expect(twoProportionZTest(a, b)).toBeNull();
  });
});

describe('chiSquareTest and gTest (2×k homogeneity)', () => {
  // Current 100 runs, baseline 300, N = 400; column totals a 60, b 200, c 140. Expected counts by hand
  // (row total × column total / N): current 15, 50, 35; baseline 45, 150, 105.
  // X² = 15²/15 + 0 + 15²/35 + 15²/45 + 0 + 15²/105 = 15 + 45/7 + 5 + 15/7 = 200/7 = 28.571428...
  // df = 2, and the chi-square(2) tail is exactly exp(−x/2): p = exp(−100/7) = 6.248749509463085e-7.
  // scipy stats.chi2_contingency(correction=False) agrees: 28.571428571428573, 6.248749509463087e-07.
  const current = { a: 30, b: 50, c: 20 };
  const baseline = { a: 30, b: 150, c: 120 };

  it('computes X², df and p for a 2×3 table', () => {
    const r = chiSquareTest({ current, baseline })!;
    expect(r.statistic).toBeCloseTo(200 / 7, 12);
    expect(r.df).toBe(2);
    expect(Math.abs(r.pValue - Math.exp(-100 / 7))).toBeLessThan(1e-12 * Math.exp(-100 / 7));
  });

  it('computes G on the same table', () => {
    // G = 2[30 ln(30/15) + 50 ln(50/50) + 20 ln(20/35) + 30 ln(30/45) + 150 ln(150/150) + 120 ln(120/105)]
    // = 26.923827059575355; scipy chi2_contingency(..., lambda_="log-likelihood"): same G, p 1.4241811659493059e-06
    const expectedG =
      2 * (30 * Math.log(2) + 20 * Math.log(20 / 35) + 30 * Math.log(30 / 45) + 120 * Math.log(120 / 105));
    expect(expectedG).toBeCloseTo(26.923827059575355, 12);
    const r = gTest({ current, baseline })!;
    expect(r.statistic).toBeCloseTo(expectedG, 12);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeCloseTo(1.4241811659493059e-6, 15);
  });

  it('unions the keys and drops categories empty on both sides', () => {
    const widened = { current: { ...current, gone: 0 }, baseline: { ...baseline, never: 0 } };
    expect(chiSquareTest(widened)).toEqual(chiSquareTest({ current, baseline }));
    expect(gTest(widened)).toEqual(gTest({ current, baseline }));
    // A key on one side only is a real category (the other side's count is 0): k = 3, df = 2.
    const r = chiSquareTest({ current: { a: 5, new: 5 }, baseline: { a: 10, b: 4 } })!;
    expect(r.df).toBe(2);
  });

  it('gives X² = G = 0 and p = 1 for proportional rows', () => {
    const c = chiSquareTest({ current: { a: 1, b: 2, c: 3 }, baseline: { a: 10, b: 20, c: 30 } })!;
    const g = gTest({ current: { a: 1, b: 2, c: 3 }, baseline: { a: 10, b: 20, c: 30 } })!;
    expect(c.statistic).toBeCloseTo(0, 12);
    expect(c.pValue).toBeCloseTo(1, 12);
    expect(g.statistic).toBeGreaterThanOrEqual(0);
    expect(g.pValue).toBeCloseTo(1, 12);
  });

  it.each([
    ['one category', { a: 5 }, { a: 9 }],
    ['one category left after dropping empty ones', { a: 5, b: 0 }, { a: 9 }],
    ['an empty current row', {}, { a: 3, b: 4 }],
    ['an empty baseline row', { a: 3, b: 4 }, { a: 0, b: 0, c: 0 }],
    ['a negative count', { a: 3, b: -1 }, { a: 3, b: 4 }],
    ['a non-finite count', { a: 3, b: Number.NaN }, { a: 3, b: 4 }],
  ])('is undefined (null) for %s', (_, cur, base) => {
    expect(chiSquareTest({ current: cur, baseline: base })).toBeNull();
    expect(gTest({ current: cur, baseline: base })).toBeNull();
  });
});
