/**
 * Two-sample significance tests on the aggregates ClickHouse returns (sums and counts, never raw runs).
 * By convention `a` / `current` is the current window and `b` / `baseline` the baseline, so a positive
 * statistic means the current value is higher. All tests are two-sided: the rule's direction is
 * applied to the deviation, not to the test.
 *
 * Every test returns null when it is undefined for its input (too few runs, no variance in both
 * windows, an empty table, invalid sums) rather than a made-up p-value: the caller then
 * treats the group as "not testable", and `holmAdjust` leaves it out of the family.
 */
import type { Counts } from './distribution.js';
import { chiSquareSurvival, normalTwoSidedPValue, studentTTwoSidedPValue } from './probability.js';
import type { MomentSums, ProportionCounts, RatioSums } from './sums.js';

export interface TestResult {
  /** t for Welch, z for the z-tests, X² or G for the contingency tests. */
  readonly statistic: number;
  /** Two-sided p-value (upper tail for the contingency tests, which are two-sided by nature). */
  readonly pValue: number;
  /** Degrees of freedom, for the tests whose reference distribution has them. */
  readonly df?: number;
}

/** A 2×k table: counts per category in the current and the baseline window. */
export interface CategoryCounts {
  readonly current: Counts;
  readonly baseline: Counts;
}

/**
 * Sums of squares minus n·mean² cancel catastrophically when the spread is tiny next to the mean:
 * constant per-run costs of 0.1 leave rounding noise instead of 0, and a t-test on that noise would
 * call two constants "significantly different" with t in the billions. Summing n terms in floating
 * point can be off by about n·ε of the sum (the standard bound for recursive summation), and the
 * centred value inherits that from Σx² and (Σx)²/n; anything below 4·n·ε of Σx² cannot be told apart
 * from no spread at all, so it is taken as none.
 */
function centred(raw: number, scale: number, n: number): number {
  return raw <= 4 * n * Number.EPSILON * Math.abs(scale) ? 0 : raw;
}

function finite(...xs: number[]): boolean {
  return xs.every((x) => Number.isFinite(x));
}

interface Moments {
  readonly n: number;
  readonly mean: number;
  readonly variance: number; // sample variance, n - 1 denominator
}

function moments(s: MomentSums): Moments | null {
  if (!finite(s.n, s.sum, s.sumSq) || s.n < 2 || s.sumSq < 0) return null;
  const mean = s.sum / s.n;
  const ss = centred(s.sumSq - s.sum * mean, s.sumSq, s.n);
  return { n: s.n, mean, variance: ss / (s.n - 1) };
}

/**
 * Welch's unequal-variance t-test from sums and sums of squares, with Welch–Satterthwaite df.
 *
 * Welch, not Student: a model or prompt change moves the spread of per-run values as often as the
 * mean, and Welch stays valid when the variances differ at almost no cost when they do not.
 * If one side has zero variance the test reduces, correctly, to a one-sample t-test of the other
 * side against that constant (df = n - 1 of the varying side). Null when either n < 2 or both
 * variances are 0 (the statistic would be 0/0 or infinite).
 */
export function welchTTest(a: MomentSums, b: MomentSums): TestResult | null {
  const ma = moments(a);
  const mb = moments(b);
  if (ma === null || mb === null) return null;
  const va = ma.variance / ma.n;
  const vb = mb.variance / mb.n;
  const se2 = va + vb;
  if (!(se2 > 0)) return null;
  const t = (ma.mean - mb.mean) / Math.sqrt(se2);
  // Welch–Satterthwaite, written with va/se2 and vb/se2 so that squaring tiny variances cannot underflow.
  const fa = va / se2;
  const fb = vb / se2;
  const df = 1 / ((fa * fa) / (ma.n - 1) + (fb * fb) / (mb.n - 1));
  return { statistic: t, pValue: studentTTwoSidedPValue(t, df), df };
}

interface Ratio {
  readonly ratio: number;
  readonly variance: number; // of the ratio estimate
}

/**
 * R = mean(X) / mean(Y) and its delta-method variance
 *   Var(R) ≈ (1/n) (Var X / μy² − 2 μx Cov(X,Y) / μy³ + μx² Var Y / μy⁴)
 *          = Var(X − R·Y) / (n μy²),
 * the second form being the one computed (one centred quantity, so one place to guard cancellation).
 */
function ratioMoments(s: RatioSums): Ratio | null {
  if (!finite(s.n, s.sumX, s.sumXSq, s.sumY, s.sumYSq, s.sumXY) || s.n < 2) return null;
  if (s.sumXSq < 0 || s.sumYSq < 0) return null;
  const meanX = s.sumX / s.n;
  const meanY = s.sumY / s.n;
  if (meanY === 0) return null;
  const r = meanX / meanY;
  const varX = (s.sumXSq - s.sumX * meanX) / (s.n - 1);
  const varY = (s.sumYSq - s.sumY * meanY) / (s.n - 1);
  const cov = (s.sumXY - s.sumX * meanY) / (s.n - 1);
  // The rounding in all three terms scales with ΣX² + R²ΣY², since |2R·ΣXY| <= ΣX² + R²ΣY².
  const residualVar = centred(varX - 2 * r * cov + r * r * varY, (s.sumXSq + r * r * s.sumYSq) / (s.n - 1), s.n);
  return { ratio: r, variance: residualVar / (s.n * meanY * meanY) };
}

/**
 * z-test for a difference in a ratio of means, e.g. cost per success with X = a run's cost and
 * Y = 1 if the run succeeded. The two windows are independent samples, so their delta-method
 * variances add. Null when either n < 2, mean Y is 0 on either side (no successes: the ratio itself
 * is undefined), or both variances are 0.
 */
export function ratioZTest(a: RatioSums, b: RatioSums): TestResult | null {
  const ra = ratioMoments(a);
  const rb = ratioMoments(b);
  if (ra === null || rb === null) return null;
  const v = ra.variance + rb.variance;
  if (!(v > 0)) return null;
  const z = (ra.ratio - rb.ratio) / Math.sqrt(v);
  return { statistic: z, pValue: normalTwoSidedPValue(z) };
}

function validProportion(c: ProportionCounts): boolean {
  return finite(c.successes, c.trials) && c.trials > 0 && c.successes >= 0 && c.successes <= c.trials;
}

/**
 * Pooled two-proportion z-test (H0: equal proportions, so the pooled estimate is the null's own
 * variance). Without continuity correction, so z² equals the 2×2 chi-square statistic. Null when
 * either side has no trials or the pooled proportion is 0 or 1 (no variance under H0).
 */
export function twoProportionZTest(a: ProportionCounts, b: ProportionCounts): TestResult | null {
  if (!validProportion(a) || !validProportion(b)) return null;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se2 = pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials);
  if (!(se2 > 0)) return null;
  const z = (a.successes / a.trials - b.successes / b.trials) / Math.sqrt(se2);
  return { statistic: z, pValue: normalTwoSidedPValue(z) };
}

interface Cell {
  readonly observed: number;
  readonly expected: number;
}

/**
 * The 2×k table's cells with their expected counts under homogeneity (row total × column total / N).
 * Categories with 0 on both sides are dropped: they carry no information, and would add a degree of
 * freedom (lowering power) and an expected count of 0 (dividing by it). Null when fewer than two
 * categories remain, a row total is 0, or a count is negative or not finite.
 */
function contingency(counts: CategoryCounts): { cells: Cell[]; df: number } | null {
  const keys = new Set([...Object.keys(counts.current), ...Object.keys(counts.baseline)]);
  const columns: { current: number; baseline: number }[] = [];
  for (const key of keys) {
    const current = counts.current[key] ?? 0;
    const baseline = counts.baseline[key] ?? 0;
    if (!finite(current, baseline) || current < 0 || baseline < 0) return null;
    if (current === 0 && baseline === 0) continue;
    columns.push({ current, baseline });
  }
  if (columns.length < 2) return null;
  const rowCurrent = columns.reduce((s, c) => s + c.current, 0);
  const rowBaseline = columns.reduce((s, c) => s + c.baseline, 0);
  if (rowCurrent === 0 || rowBaseline === 0) return null;
  const n = rowCurrent + rowBaseline;
  const cells: Cell[] = [];
  for (const c of columns) {
    const column = c.current + c.baseline;
    cells.push({ observed: c.current, expected: (rowCurrent * column) / n });
    cells.push({ observed: c.baseline, expected: (rowBaseline * column) / n });
  }
  return { cells, df: columns.length - 1 };
}

/**
 * Pearson chi-square test of homogeneity: did the mix across categories change between the windows?
 * df = k − 1 for a 2×k table. No continuity correction (matching `twoProportionZTest`). The
 * chi-square approximation is rough when expected counts fall below ~5; `min_runs` is the guard.
 */
export function chiSquareTest(counts: CategoryCounts): TestResult | null {
  const table = contingency(counts);
  if (table === null) return null;
  let x2 = 0;
  for (const { observed, expected } of table.cells) x2 += ((observed - expected) * (observed - expected)) / expected;
  return { statistic: x2, pValue: chiSquareSurvival(x2, table.df), df: table.df };
}

/**
 * G-test (likelihood-ratio test) of homogeneity, G = 2 Σ O ln(O / E), on the same table and df.
 * Asymptotically equal to chi-square and the natural companion of the Jensen–Shannon effect size:
 * G / 2N is the JS divergence (in nats) with the two windows weighted by their share of the runs.
 */
export function gTest(counts: CategoryCounts): TestResult | null {
  const table = contingency(counts);
  if (table === null) return null;
  let g = 0;
  // 0 · ln 0 = 0: an empty cell adds nothing to the likelihood ratio.
  for (const { observed, expected } of table.cells) if (observed > 0) g += observed * Math.log(observed / expected);
  g = Math.max(0, 2 * g); // never negative in exact arithmetic; rounding can leave -1e-15 when O ≈ E
  return { statistic: g, pValue: chiSquareSurvival(g, table.df), df: table.df };
}
