import { describe, expect, it } from 'vitest';
import {
  chiSquareSurvival,
  chiSquareTest,
  gTest,
  poolSparseCategories,
  raoScottChiSquareTest,
  ratioZTest,
  SPARSE_KEY,
  studentTTwoSidedPValue,
  twoProportionZTest,
  welchTTest,
  type MixSums,
  type MomentSums,
  type ProportionCounts,
  type RatioSums,
} from '../../src/stats/index.js';

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
    // Two exact constants that differ: a certain difference, not a t in the billions from noise.
    expect(welchTTest(constantA, constantB)).toEqual({ statistic: Number.NEGATIVE_INFINITY, pValue: 0 });
    // The same constant summed 1000 and 500 times: the means differ in the last bits only -> equal.
    expect(welchTTest(constantA, momentSums(Array.from({ length: 500 }, () => 0.1)))).toEqual({ statistic: 0, pValue: 1 });
    const varying = [0.05, 0.1, 0.15, 0.12, 0.08, 0.1];
    const r = welchTTest(momentSums(varying), constantB)!;
    expect(r.df).toBeCloseTo(varying.length - 1, 9);
  });

  it('is certain when neither window varies: a tool called exactly once per run, then exactly twice', () => {
    // Every run the same in each window: the means are known exactly, so 1 -> 2 is a certain change
    // (p = 0, t = +Infinity) and 2 -> 2 certainly none (p = 1, t = 0). No df: no reference distribution.
    const once = momentSums(Array.from({ length: 500 }, () => 1));
    const twice = momentSums(Array.from({ length: 500 }, () => 2));
    expect(welchTTest(twice, once)).toEqual({ statistic: Number.POSITIVE_INFINITY, pValue: 0 });
    expect(welchTTest(once, twice)).toEqual({ statistic: Number.NEGATIVE_INFINITY, pValue: 0 });
    expect(welchTTest(twice, momentSums([2, 2, 2]))).toEqual({ statistic: 0, pValue: 1 });
    // A tool never called in either window (all zeros) is no change either.
    expect(welchTTest(momentSums([0, 0, 0]), momentSums([0, 0]))).toEqual({ statistic: 0, pValue: 1 });
  });

  it.each<[string, MomentSums, MomentSums]>([
    ['n < 2 on the current side', { n: 1, sum: 3, sumSq: 9 }, momentSums([1, 2, 3])],
    ['n < 2 on the baseline side', momentSums([1, 2, 3]), { n: 0, sum: 0, sumSq: 0 }],
    ['n < 2 and zero variance', { n: 1, sum: 2, sumSq: 4 }, momentSums([3, 3])],
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

  it('is certain when X is exactly R·Y in every run of both windows', () => {
    // Constant cost, every run a success: the ratios are exact. 0.1 vs 0.2: p = 0; 0.1 vs 0.1: p = 1.
    expect(ratioZTest(ratioSums([0.1, 0.1, 0.1], [1, 1, 1]), ratioSums([0.2, 0.2], [1, 1]))).toEqual({ statistic: Number.NEGATIVE_INFINITY, pValue: 0 });
    expect(ratioZTest(ratioSums([0.1, 0.1, 0.1], [1, 1, 1]), ratioSums([0.1, 0.1], [1, 1]))).toEqual({ statistic: 0, pValue: 1 });
    // Policy per decision: every run 1 activation in 4 decisions, then 2 in 4: 0.25 -> 0.5 for sure.
    expect(ratioZTest(ratioSums([2, 2], [4, 4]), ratioSums([1, 1, 1], [4, 4, 4]))).toEqual({ statistic: Number.POSITIVE_INFINITY, pValue: 0 });
    // Runs of different sizes with the same rate (1 in 4, 2 in 8): X = R·Y exactly, still certain.
    expect(ratioZTest(ratioSums([1, 2], [4, 8]), ratioSums([3, 1], [12, 4]))).toEqual({ statistic: 0, pValue: 1 });
    // No activations at all in either window: 0 vs 0, no change.
    expect(ratioZTest(ratioSums([0, 0], [5, 3]), ratioSums([0, 0, 0], [4, 4, 2]))).toEqual({ statistic: 0, pValue: 1 });
  });

  it.each<[string, RatioSums, RatioSums]>([
    ['no successes in the current window', ratioSums([0.1, 0.2, 0.3], [0, 0, 0]), ratioSums(baselineCost, baselineOk)],
    ['no successes in the baseline', ratioSums(currentCost, currentOk), ratioSums([0.1, 0.2], [0, 0])],
    ['a single run', ratioSums([0.1], [1]), ratioSums(baselineCost, baselineOk)],
    ['a single run and constant cost', ratioSums([0.1], [1]), ratioSums([0.1, 0.1], [1, 1])],
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

  it('gives z = 0 and p = 1 when the pooled proportion is 0 or 1 (both sides all no, or all yes)', () => {
    expect(twoProportionZTest({ successes: 0, trials: 10 }, { successes: 0, trials: 20 })).toEqual({ statistic: 0, pValue: 1 });
    expect(twoProportionZTest({ successes: 10, trials: 10 }, { successes: 20, trials: 20 })).toEqual({ statistic: 0, pValue: 1 });
  });

  it.each<[string, ProportionCounts, ProportionCounts]>([
    ['no trials on one side', { successes: 0, trials: 0 }, { successes: 3, trials: 10 }],
    ['no trials on either side', { successes: 0, trials: 0 }, { successes: 0, trials: 0 }],
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

  it('gives X² = G = 0 and p = 1 with df 0 when both windows have one and the same category', () => {
    for (const [cur, base] of [[{ a: 5 }, { a: 9 }], [{ a: 5, b: 0 }, { a: 9 }]] as const) {
      expect(chiSquareTest({ current: cur, baseline: base })).toEqual({ statistic: 0, pValue: 1, df: 0 });
      expect(gTest({ current: cur, baseline: base })).toEqual({ statistic: 0, pValue: 1, df: 0 });
    }
  });

  it.each([
    ['an empty current row', {}, { a: 3, b: 4 }],
    ['an empty baseline row', { a: 3, b: 4 }, { a: 0, b: 0, c: 0 }],
    ['a negative count', { a: 3, b: -1 }, { a: 3, b: 4 }],
    ['a non-finite count', { a: 3, b: Number.NaN }, { a: 3, b: 4 }],
  ])('is undefined (null) for %s', (_, cur, base) => {
    expect(chiSquareTest({ current: cur, baseline: base })).toBeNull();
    expect(gTest({ current: cur, baseline: base })).toBeNull();
  });
});

/** The sums the tool-calls SQL returns for these runs (each run: calls per category). */
function mixSums(runs: readonly Record<string, number>[]): MixSums {
  const categories: Record<string, { sum: number; sumSq: number; sumXTotal: number }> = {};
  const products: Record<string, Record<string, number>> = {};
  let sumTotal = 0;
  let sumTotalSq = 0;
  for (const run of runs) {
    const m = Object.values(run).reduce((s, c) => s + c, 0);
    sumTotal += m;
    sumTotalSq += m * m;
    const keys = Object.keys(run);
    for (const k of keys) {
      const c = run[k]!;
      const cat = (categories[k] ??= { sum: 0, sumSq: 0, sumXTotal: 0 });
      cat.sum += c;
      cat.sumSq += c * c;
      cat.sumXTotal += c * m;
      for (const j of keys) if (k < j) (products[k] ??= {})[j] = (products[k]?.[j] ?? 0) + c * run[j]!;
    }
  }
  return { runs: runs.length, sumTotal, sumTotalSq, categories, products };
}

describe('raoScottChiSquareTest (calls clustered in runs)', () => {
  // current: {a:2, b:1}, {a:1}, {a:1, b:2}; baseline: {a:1, b:1}, {b:2}, {a:3, b:1}
  const current: Record<string, number>[] = [{ a: 2, b: 1 }, { a: 1 }, { a: 1, b: 2 }];
  const baseline: Record<string, number>[] = [{ a: 1, b: 1 }, { b: 2 }, { a: 3, b: 1 }];

  it('divides Pearson X² by the design effect; with two categories by hand', () => {
    // Calls: current a 4, b 3 (M₀ = 7), baseline a 4, b 4 (M₁ = 8), pooled p̄ = (8/15, 7/15).
    // Pearson: X² = (M₀M₁/M) Σ (p̂₀ − p̂₁)²/p̄ = (56/15)(4/7 − 1/2)²(15/8 + 15/7) = 15/196 = 0.0765306.
    // Share variance of a, current: p̂ = 4/7, runs m = 3, 1, 3, residuals c − p̂m = 2/7, 3/7, −5/7,
    //   Σ² = 38/49, v₀ = n/(n−1) Σ² / M₀² = (3/2)(38/49)/49 = 57/2401 = 0.0237401.
    // Baseline: p̂ = 1/2, m = 2, 2, 4, residuals 0, −1, 1, v₁ = (3/2)(2)/64 = 3/64 = 0.046875.
    // With two categories b's residuals are a's negated (same variances, covariance −v): A has one
    // eigenvalue, tr(A) = (M₀M₁/M)(v₀ + v₁)(1/p̄ₐ + 1/p̄_b) = 15 (57/2401 + 3/64) = 1.0592266,
    // so X²ₛ = X² / tr(A) = 0.0722514 on df 1 (the first- and second-order corrections agree).
    const r = raoScottChiSquareTest(mixSums(current), mixSums(baseline))!;
    const trace = 15 * (57 / 2401 + 3 / 64);
    expect(trace).toBeCloseTo(1.0592266, 7);
    expect(r.statistic).toBeCloseTo(15 / 196 / trace, 12);
    expect(r.df).toBeCloseTo(1, 12);
    expect(r.designEffect).toBeCloseTo(trace, 12);
    // scipy.stats.chi2.sf(0.07225140540042391, 1) = 0.7880865058924454
    expect(r.pValue).toBeCloseTo(0.7880865058924454, 10);
  });

  it('matches the matrix form computed run by run, with three categories (second order: fractional df)', () => {
    // numpy on the per-run call matrices (C − m p̂ᵀ)ᵀ(C − m p̂ᵀ) · n/(n−1)/M², A = (M₀M₁/M) D^(−½)(V₀+V₁)D^(−½):
    //   tr(A) 2.3228204914155324, tr(A²) 3.4642396158529887 (eigenvalues 0, 0.54234, 1.78048),
    //   Pearson X² 0.0686868686868687 (scipy chi2_contingency), X²ₛ = X² tr(A)/tr(A²) 0.046055493779041515,
    //   df = tr(A)²/tr(A²) 1.5574832094896471, p = chi2.sf 0.9432875184616187.
    const cur: Record<string, number>[] = [{ a: 2, b: 1 }, { a: 1, c: 1 }, { a: 3 }, { b: 2, c: 1 }];
    const base: Record<string, number>[] = [{ a: 1, b: 1, c: 1 }, { a: 2 }, { b: 1 }];
    const r = raoScottChiSquareTest(mixSums(cur), mixSums(base))!;
    expect(r.statistic).toBeCloseTo(0.046055493779041515, 12);
    expect(r.df).toBeCloseTo(1.5574832094896471, 12);
    expect(r.pValue).toBeCloseTo(0.9432875184616187, 10);
    expect(r.designEffect).toBeCloseTo(2.3228204914155324 / 2, 12);
    // The product sums matter: without them (as if no two tools shared a run) the answer differs.
    const noPairs = raoScottChiSquareTest({ ...mixSums(cur), products: {} }, { ...mixSums(base), products: {} })!;
    expect(Math.abs(noPairs.statistic - r.statistic)).toBeGreaterThan(1e-3);
    // A pair's sum may come in either order.
    const swapped = (s: MixSums): MixSums => {
      const products: Record<string, Record<string, number>> = {};
      for (const [a, row] of Object.entries(s.products)) for (const [b, x] of Object.entries(row)) (products[b] ??= {})[a] = x;
      return { ...s, products };
    };
    expect(raoScottChiSquareTest(swapped(mixSums(cur)), swapped(mixSums(base)))!.statistic).toBeCloseTo(r.statistic, 12);
  });

  it('counts runs, not calls: a run that calls everything twice as often is still one run', () => {
    // Doubling every run's calls doubles Pearson's X² (twice the "independent" calls); the shares
    // and their run-to-run spread are unchanged, so the Rao-Scott statistic is too.
    const cur: Record<string, number>[] = [{ a: 2, b: 1 }, { a: 1, c: 1 }, { a: 3 }, { b: 2, c: 1 }];
    const base: Record<string, number>[] = [{ a: 1, b: 1, c: 1 }, { a: 2 }, { b: 1 }];
    const double = (runs: Record<string, number>[]) => runs.map((r) => Object.fromEntries(Object.entries(r).map(([k, c]) => [k, 2 * c])));
    const counts = (runs: Record<string, number>[]) => mixSums(runs).categories;
    const calls = (runs: Record<string, number>[]) => Object.fromEntries(Object.entries(counts(runs)).map(([k, c]) => [k, c.sum]));
    const pearson = chiSquareTest({ current: calls(cur), baseline: calls(base) })!.statistic;
    expect(chiSquareTest({ current: calls(double(cur)), baseline: calls(double(base)) })!.statistic).toBeCloseTo(2 * pearson, 12);
    const once = raoScottChiSquareTest(mixSums(cur), mixSums(base))!;
    const twice = raoScottChiSquareTest(mixSums(double(cur)), mixSums(double(base)))!;
    expect(twice.statistic).toBeCloseTo(once.statistic, 12);
    expect(twice.pValue).toBeCloseTo(once.pValue, 12);
    expect(twice.designEffect).toBeCloseTo(2 * once.designEffect!, 12);
  });

  it('is close to Pearson when every run makes one call (calls are then independent)', () => {
    // One call per run: the design effects are n/(n−1) up to the difference between the windows' and
    // the pooled shares, so X²ₛ ≈ X² and the p-values nearly agree.
    const runs = (a: number, b: number, c: number) => [
      ...Array.from({ length: a }, () => ({ a: 1 })),
      ...Array.from({ length: b }, () => ({ b: 1 })),
      ...Array.from({ length: c }, () => ({ c: 1 })),
    ];
    const r = raoScottChiSquareTest(mixSums(runs(300, 200, 100)), mixSums(runs(250, 250, 100)))!;
    const p = chiSquareTest({ current: { a: 300, b: 200, c: 100 }, baseline: { a: 250, b: 250, c: 100 } })!;
    expect(r.designEffect).toBeGreaterThan(0.99);
    expect(r.designEffect).toBeLessThan(1.01);
    expect(r.df).toBeGreaterThan(1.99);
    expect(r.statistic / p.statistic).toBeGreaterThan(0.99);
    expect(r.statistic / p.statistic).toBeLessThan(1.01);
    expect(r.pValue).toBeCloseTo(chiSquareSurvival(r.statistic, r.df!), 15);
  });

  it('is certain when no run deviates from its window shares: a new mix is p = 0, the same mix p = 1', () => {
    const each = (n: number, run: Record<string, number>) => Array.from({ length: n }, () => run);
    // Every run {a:1, b:1} now, {a:1} before: the mix changed for sure.
    expect(raoScottChiSquareTest(mixSums(each(5, { a: 1, b: 1 })), mixSums(each(4, { a: 1 })))).toEqual({
      statistic: Number.POSITIVE_INFINITY,
      pValue: 0,
      df: 1,
      designEffect: 0,
    });
    // Every run {a:2, b:1} in both windows (and {a:4, b:2}: the same shares): no change for sure.
    expect(raoScottChiSquareTest(mixSums(each(3, { a: 2, b: 1 })), mixSums([...each(2, { a: 2, b: 1 }), { a: 4, b: 2 }]))).toEqual({
      statistic: 0,
      pValue: 1,
      df: 1,
      designEffect: 0,
    });
    // One tool only, in both windows: the same distribution, df 0.
    expect(raoScottChiSquareTest(mixSums([{ a: 1 }, { a: 3 }]), mixSums([{ a: 2 }, { a: 2 }]))).toEqual({ statistic: 0, pValue: 1, df: 0 });
  });

  it.each<[string, MixSums, MixSums]>([
    ['a single run in the current window', mixSums([{ a: 1, b: 2 }]), mixSums([{ a: 1 }, { b: 1 }])],
    ['no runs in the baseline', mixSums([{ a: 1 }, { b: 1 }]), mixSums([])],
    ['no calls in the current window', mixSums([{}, {}]), mixSums([{ a: 1 }, { b: 1 }])],
    ['a negative sum', { ...mixSums([{ a: 1 }, { b: 1 }]), sumTotalSq: -1 }, mixSums([{ a: 1 }, { b: 1 }])],
    ['a non-finite product', { ...mixSums([{ a: 1 }, { b: 1 }]), products: { a: { b: Number.NaN } } }, mixSums([{ a: 1 }, { b: 1 }])],
  ])('is undefined (null) for %s', (_, a, b) => {
    expect(raoScottChiSquareTest(a, b)).toBeNull();
  });
});

describe('poolSparseCategories', () => {
  it('merges the categories expected below 5 in either window, rarest first', () => {
    // Rows: current 60, baseline 40, N 100; the smaller row's expected count of a column is 40·total/100.
    // a 50+30 = 80 -> 32; b 5+5 = 10 -> 4; c 3+2 = 5 -> 2; d 2+3 = 5 -> 2: b, c, d are pooled
    // (4 + 2 + 2 -> 8 >= 5) and a stays.
    const pooled = poolSparseCategories({ current: { a: 50, b: 5, c: 3, d: 2 }, baseline: { a: 30, b: 5, c: 2, d: 3 } });
    expect(pooled).toEqual({ current: { [SPARSE_KEY]: 10, a: 50 }, baseline: { [SPARSE_KEY]: 10, a: 30 } });
  });

  it('adds the next rarest category while the pooled column is still below 5', () => {
    // Rows 10 / 10: expected = 10·total/20 = total/2. c 1+0 -> 0.5, b 2+4 -> 3, a 7+6 -> 6.5, z 0+0 dropped.
    // c and b are sparse and pool to 3 / 4, expected (3+4)/2 = 3.5, still < 5, so a would join; but
    // one other column must stay: the table is {pooled, a}.
    const pooled = poolSparseCategories({ current: { a: 7, b: 2, c: 1, z: 0 }, baseline: { a: 6, b: 4, z: 0 } });
    expect(pooled).toEqual({ current: { [SPARSE_KEY]: 3, a: 7 }, baseline: { [SPARSE_KEY]: 4, a: 6 } });
    // With a fourth, common category the pooled column takes in a: (c, b, a) -> expected 10 >= 5.
    const wider = poolSparseCategories({ current: { a: 7, b: 2, c: 1, d: 40 }, baseline: { a: 6, b: 4, d: 40 } });
    // rows 50 / 50: expected = total/2: c 0.5, b 3, a 6.5, d 40: c and b are sparse, pooled 3.5 < 5 -> a joins.
    expect(wider).toEqual({ current: { [SPARSE_KEY]: 10, d: 40 }, baseline: { [SPARSE_KEY]: 10, d: 40 } });
  });

  it('leaves a table with every expected count >= 5 (and a 2-column table) as it is', () => {
    const table = { current: { a: 30, b: 20 }, baseline: { a: 25, b: 25 } };
    expect(poolSparseCategories(table)).toEqual(table);
    expect(poolSparseCategories({ current: { a: 2, b: 1 }, baseline: { a: 1, b: 3 } })).toEqual({ current: { a: 2, b: 1 }, baseline: { a: 1, b: 3 } });
    // An invalid table comes back unchanged, for the test to call undefined.
    const bad = { current: { a: -1, b: 2 }, baseline: { a: 1 } };
    expect(poolSparseCategories(bad)).toBe(bad);
    expect(chiSquareTest(poolSparseCategories(bad))).toBeNull();
  });

  it('keeps the chi-square test honest on a long tail: the pooled p-value on a hand-checked table', () => {
    // 10 / 10 runs: A 5 / 6, B 2 / 4, NEW 3 / 0; expected (smaller row 10 of 20): A 5.5, B 3, NEW 1.5.
    // NEW and B pool to 5 / 4 (expected 4.5, still < 5, but A must stay): [[5, 5], [4, 6]] by column
    // (pooled, A): X² = 2(0.5²/4.5) + 2(0.5²/5.5) = 0.1111111 + 0.0909091 = 0.2020202, df 1.
    const r = chiSquareTest(poolSparseCategories({ current: { A: 5, B: 2, NEW: 3 }, baseline: { A: 6, B: 4 } }))!;
    expect(r.statistic).toBeCloseTo(0.2020202, 7);
    expect(r.df).toBe(1);
    // scipy.stats.chi2.sf(0.20202020202020202, 1) = 0.653095114932182
    expect(r.pValue).toBeCloseTo(0.653095114932182, 10);
  });
});
