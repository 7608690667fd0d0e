/**
 * Two-sample significance tests on the aggregates ClickHouse returns (sums and counts, never raw runs).
 * By convention `a` / `current` is the current window and `b` / `baseline` the baseline, so a positive
 * statistic means the current value is higher. All tests are two-sided: the rule's direction is
 * applied to the deviation, not to the test.
 *
 * Degenerate inputs get the answer the data give, not "untestable": when neither window varies at all
 * (a tool called exactly once in every run, then exactly twice in every run) a difference is certain,
 * p = 0 (statistic ±Infinity), and no difference is certain too, p = 1 (statistic 0). A test returns
 * null only where it is truly undefined for its input (fewer than 2 runs, a ratio with no successes,
 * an empty window, invalid sums) rather than a made-up p-value: the caller then treats the group as
 * "not testable", and `holmAdjust` leaves it out of the family.
 */
import type { Counts } from './distribution.js';
import { chiSquareSurvival, normalTwoSidedPValue, studentTTwoSidedPValue } from './probability.js';
import type { MixSums, MomentSums, ProportionCounts, RatioSums } from './sums.js';

export interface TestResult {
  /** t for Welch, z for the z-tests, X² or G for the contingency tests. */
  readonly statistic: number;
  /** Two-sided p-value (upper tail for the contingency tests, which are two-sided by nature). */
  readonly pValue: number;
  /** Degrees of freedom, for the tests whose reference distribution has them. */
  readonly df?: number;
  /**
   * Rao–Scott only: the mean design effect the Pearson statistic was divided by (how much more the
   * shares vary between windows than if every call were an independent draw).
   */
  readonly designEffect?: number;
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

/**
 * The answer when a statistic's standard error is exactly 0: both windows are constant, so the
 * estimates are known without error. Equal estimates (up to the rounding of summing n terms, as in
 * `centred`) are certainly not different, p = 1; different ones certainly are, p = 0.
 */
function certain(a: number, b: number, n: number): TestResult {
  const diff = a - b;
  if (Math.abs(diff) <= 4 * n * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b))) return { statistic: 0, pValue: 1 };
  return { statistic: diff > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY, pValue: 0 };
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
 * side against that constant (df = n - 1 of the varying side). If both have zero variance the means
 * are exact: p = 1 when they are equal, p = 0 (t = ±Infinity) when not, with no df. Null when
 * either n < 2.
 */
export function welchTTest(a: MomentSums, b: MomentSums): TestResult | null {
  const ma = moments(a);
  const mb = moments(b);
  if (ma === null || mb === null) return null;
  const va = ma.variance / ma.n;
  const vb = mb.variance / mb.n;
  const se2 = va + vb;
  if (!(se2 > 0)) return certain(ma.mean, mb.mean, ma.n + mb.n);
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
 * variances add. When both residual variances are 0 (X is exactly R·Y in every run of both windows)
 * the ratios are exact: p = 1 if they are equal, p = 0 if not. Null when either n < 2 or mean Y is 0
 * on either side (no successes: the ratio itself is undefined).
 */
export function ratioZTest(a: RatioSums, b: RatioSums): TestResult | null {
  const ra = ratioMoments(a);
  const rb = ratioMoments(b);
  if (ra === null || rb === null) return null;
  const v = ra.variance + rb.variance;
  if (!(v > 0)) return certain(ra.ratio, rb.ratio, a.n + b.n);
  const z = (ra.ratio - rb.ratio) / Math.sqrt(v);
  return { statistic: z, pValue: normalTwoSidedPValue(z) };
}

function validProportion(c: ProportionCounts): boolean {
  return finite(c.successes, c.trials) && c.trials > 0 && c.successes >= 0 && c.successes <= c.trials;
}

/**
 * Pooled two-proportion z-test (H0: equal proportions, so the pooled estimate is the null's own
 * variance). Without continuity correction, so z² equals the 2×2 chi-square statistic. A pooled
 * proportion of 0 or 1 means both sides are 0 (or both 1): no difference, z = 0 and p = 1. Null when
 * either side has no trials or the counts are invalid.
 */
export function twoProportionZTest(a: ProportionCounts, b: ProportionCounts): TestResult | null {
  if (!validProportion(a) || !validProportion(b)) return null;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  if (pooled === 0 || pooled === 1) return { statistic: 0, pValue: 1 };
  const se2 = pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials);
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
 * freedom (lowering power) and an expected count of 0 (dividing by it). A single category left means
 * both windows put everything on it: the same distribution, df = 0 and no cells to test. Null when a
 * row total is 0 (a window with nothing to compare) or a count is negative or not finite.
 */
function contingency(counts: CategoryCounts): { cells: Cell[]; df: number } | null {
  const columns = tableColumns(counts);
  if (columns === null) return null;
  const rowCurrent = columns.reduce((s, c) => s + c.current, 0);
  const rowBaseline = columns.reduce((s, c) => s + c.baseline, 0);
  if (rowCurrent === 0 || rowBaseline === 0) return null;
  if (columns.length < 2) return { cells: [], df: 0 };
  const n = rowCurrent + rowBaseline;
  const cells: Cell[] = [];
  for (const c of columns) {
    const column = c.current + c.baseline;
    cells.push({ observed: c.current, expected: (rowCurrent * column) / n });
    cells.push({ observed: c.baseline, expected: (rowBaseline * column) / n });
  }
  return { cells, df: columns.length - 1 };
}

interface Column {
  readonly key: string;
  readonly current: number;
  readonly baseline: number;
}

/** The union of both windows' keys, without the ones empty on both sides; null on an invalid count. */
function tableColumns(counts: CategoryCounts): Column[] | null {
  const keys = new Set([...Object.keys(counts.current), ...Object.keys(counts.baseline)]);
  const columns: Column[] = [];
  for (const key of keys) {
    const current = counts.current[key] ?? 0;
    const baseline = counts.baseline[key] ?? 0;
    if (!finite(current, baseline) || current < 0 || baseline < 0) return null;
    if (current === 0 && baseline === 0) continue;
    columns.push({ key, current, baseline });
  }
  return columns;
}

const SAME_DISTRIBUTION: TestResult = { statistic: 0, pValue: 1, df: 0 };

/**
 * Pearson chi-square test of homogeneity: did the mix across categories change between the windows?
 * df = k − 1 for a 2×k table. No continuity correction (matching `twoProportionZTest`). One category
 * in both windows is the same distribution: X² = 0, p = 1, df = 0. The chi-square approximation is
 * rough when expected counts fall below ~5: pass the table through `poolSparseCategories` first
 * where many categories are rare.
 */
export function chiSquareTest(counts: CategoryCounts): TestResult | null {
  const table = contingency(counts);
  if (table === null) return null;
  if (table.df === 0) return SAME_DISTRIBUTION;
  let x2 = 0;
  for (const { observed, expected } of table.cells) x2 += ((observed - expected) * (observed - expected)) / expected;
  return { statistic: x2, pValue: chiSquareSurvival(x2, table.df), df: table.df };
}

/** The key of the column `poolSparseCategories` merges rare categories into. */
export const SPARSE_KEY = '__sparse__';

/**
 * Merges the categories whose expected count (under homogeneity) is below `minExpected` in either
 * window into one column, `SPARSE_KEY`, so a chi-square test on the result keeps its reference
 * distribution: with a long tail of rare categories (output fingerprints seen a few times each) every
 * rare cell adds a degree of freedom and a skewed term, and X² no longer follows chi-square. Cochran's
 * rule (every expected count at least 5) is the classic criterion.
 *
 * Categories are taken rarest first (by their total over both windows, which orders the expected
 * counts of both rows); while the merged column is itself still below `minExpected`, the next rarest
 * is added to it. At least one other column is always kept, so a table of two or more categories
 * stays testable (a 2×2 table of small counts is left as it is). Effect sizes should use the table as
 * it was: pooling is only for the test. An invalid table is returned unchanged (the test then says
 * null).
 */
export function poolSparseCategories(counts: CategoryCounts, minExpected = 5): CategoryCounts {
  const columns = tableColumns(counts);
  if (columns === null) return counts;
  const rowCurrent = columns.reduce((s, c) => s + c.current, 0);
  const rowBaseline = columns.reduce((s, c) => s + c.baseline, 0);
  const n = rowCurrent + rowBaseline;
  if (rowCurrent === 0 || rowBaseline === 0) return counts;
  const smallerRow = Math.min(rowCurrent, rowBaseline);
  const expected = (column: number) => (smallerRow * column) / n;
  const sorted = [...columns].sort((a, b) => a.current + a.baseline - (b.current + b.baseline) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let pooledCurrent = 0;
  let pooledBaseline = 0;
  let i = 0;
  while (i < sorted.length - 1) {
    const c = sorted[i]!;
    const sparse = expected(c.current + c.baseline) < minExpected;
    const bucketSparse = i > 0 && expected(pooledCurrent + pooledBaseline) < minExpected;
    if (!sparse && !bucketSparse) break;
    pooledCurrent += c.current;
    pooledBaseline += c.baseline;
    i++;
  }
  // One column "merged" is the column itself: keep its name.
  if (i < 2) return { current: Object.fromEntries(columns.map((c) => [c.key, c.current])), baseline: Object.fromEntries(columns.map((c) => [c.key, c.baseline])) };
  const current: Record<string, number> = { [SPARSE_KEY]: pooledCurrent };
  const baseline: Record<string, number> = { [SPARSE_KEY]: pooledBaseline };
  for (const c of sorted.slice(i)) {
    current[c.key] = c.current;
    baseline[c.key] = c.baseline;
  }
  return { current, baseline };
}

function validMix(s: MixSums): boolean {
  if (!finite(s.runs, s.sumTotal, s.sumTotalSq) || s.runs < 2 || s.sumTotal < 0 || s.sumTotalSq < 0) return false;
  const categoriesOk = Object.values(s.categories).every((c) => finite(c.sum, c.sumSq, c.sumXTotal) && c.sum >= 0 && c.sumSq >= 0 && c.sumXTotal >= 0);
  return categoriesOk && Object.values(s.products).every((row) => Object.values(row).every((x) => finite(x) && x >= 0));
}

function product(s: MixSums, a: string, b: string): number {
  return s.products[a]?.[b] ?? s.products[b]?.[a] ?? 0;
}

/**
 * The covariance matrix of one window's shares p̂ₖ = Σcₖ / Σm (a ratio estimator over runs, the
 * calls clustered in runs): Cov(p̂ⱼ, p̂ₖ) ≈ n/(n−1) · Σᵣ (cⱼ − p̂ⱼm)(cₖ − p̂ₖm) / (Σm)², where the sum over
 * runs r expands to Σcⱼcₖ − p̂ₖΣcⱼm − p̂ⱼΣcₖm + p̂ⱼp̂ₖΣm².
 */
function shareCovariance(s: MixSums, keys: readonly string[], total: number): number[][] {
  const scale = total > 0 ? s.runs / (s.runs - 1) / (total * total) : 0;
  const cat = keys.map((k) => s.categories[k] ?? { sum: 0, sumSq: 0, sumXTotal: 0 });
  const p = cat.map((c) => (total > 0 ? c.sum / total : 0));
  return keys.map((a, j) =>
    keys.map((b, k) => {
      if (j === k) {
        const c = cat[j]!;
        const q = p[j]! * p[j]! * s.sumTotalSq;
        return centred(c.sumSq - 2 * p[j]! * c.sumXTotal + q, c.sumSq + q, s.runs) * scale;
      }
      return (product(s, a, b) - p[k]! * cat[j]!.sumXTotal - p[j]! * cat[k]!.sumXTotal + p[j]! * p[k]! * s.sumTotalSq) * scale;
    }),
  );
}

/**
 * Chi-square test of homogeneity for counts that cluster in runs (the tool mix: a run that loops calls
 * one tool many times), with Rao and Scott's second-order correction.
 *
 * Pearson's X² on the call table treats every call as an independent draw; calls of one run are not,
 * so its p-values are far too small (orders of magnitude below a permutation of whole runs). The run
 * is the independent unit: each window's share of category k is a ratio estimator p̂ₖ = Σcₖ / Σm over
 * its runs, with the covariance `shareCovariance` estimates from per-run sums. Under homogeneity,
 * with p̄ the pooled shares and M₀, M₁ the windows' calls,
 *   X² = (M₀M₁/M) Σₖ (p̂₀ₖ − p̂₁ₖ)² / p̄ₖ,
 * a quadratic form whose null distribution is Σ λᵢ χ²₁, the λᵢ being the eigenvalues of
 *   A = (M₀M₁/M) D^(−½) (V₀ + V₁) D^(−½),  D = diag(p̄),
 * ("generalized design effects"; all 1 when calls are independent, giving χ²ₖ₋₁). The first-order
 * correction divides X² by their mean, tr(A)/(k−1), and keeps k − 1 df; with design effects as
 * unequal as a tool that loops next to one called exactly once per run, that stays anti-conservative
 * (too many false positives on clustered A/A data such as test/stats/calibration.test.ts's, whose
 * band around the nominal rate the second-order correction keeps; docs/detection.md). The
 * second-order (Satterthwaite) correction used here matches the mean and the variance of Σ λᵢ χ²₁
 * with a scaled chi-square, from tr(A) and tr(A²):
 *   X²ₛ = X² · tr(A) / tr(A²)  on  df = tr(A)² / tr(A²)  (fractional, at most k − 1)
 * (Rao & Scott 1981, 1984). tr(A²) needs the off-diagonal covariances, hence the per-pair sums
 * Σcₐc_b, which only pairs called in the same run contribute to.
 *
 * `designEffect` reports the mean design effect tr(A)/(k − 1). When no run deviates from its window's
 * shares (A = 0) the shares are exact: p = 1 if they are equal, p = 0 otherwise. One category in both
 * windows: p = 1, df = 0. Null when a window has fewer than 2 runs, no calls, or invalid sums.
 */
export function raoScottChiSquareTest(current: MixSums, baseline: MixSums): TestResult | null {
  if (!validMix(current) || !validMix(baseline)) return null;
  const calls = (s: MixSums): Record<string, number> => Object.fromEntries(Object.entries(s.categories).map(([k, c]) => [k, c.sum]));
  const counts = { current: calls(current), baseline: calls(baseline) };
  const table = contingency(counts);
  if (table === null) return null;
  if (table.df === 0) return SAME_DISTRIBUTION;
  let x2 = 0;
  for (const { observed, expected } of table.cells) x2 += ((observed - expected) * (observed - expected)) / expected;

  const columns = tableColumns(counts)!;
  const keys = columns.map((c) => c.key);
  const m0 = columns.reduce((s, c) => s + c.current, 0);
  const m1 = columns.reduce((s, c) => s + c.baseline, 0);
  const m = m0 + m1;
  const pooled = columns.map((c) => (c.current + c.baseline) / m);
  const v0 = shareCovariance(current, keys, m0);
  const v1 = shareCovariance(baseline, keys, m1);
  const weight = (m0 * m1) / m;
  let traceA = 0;
  let traceA2 = 0;
  for (let j = 0; j < keys.length; j++) {
    for (let k = 0; k < keys.length; k++) {
      const a = (weight * (v0[j]![k]! + v1[j]![k]!)) / Math.sqrt(pooled[j]! * pooled[k]!);
      if (j === k) traceA += a;
      traceA2 += a * a;
    }
  }
  if (!(traceA > 0) || !(traceA2 > 0)) {
    // Shares summed from integer counts are exact to far below 1/M, the smallest real gap.
    const gap = Math.max(...columns.map((c) => Math.abs(c.current / m0 - c.baseline / m1)));
    return gap <= 4 * m * Number.EPSILON
      ? { statistic: 0, pValue: 1, df: table.df, designEffect: 0 }
      : { statistic: Number.POSITIVE_INFINITY, pValue: 0, df: table.df, designEffect: 0 };
  }
  const statistic = (x2 * traceA) / traceA2;
  const df = (traceA * traceA) / traceA2;
  return { statistic, pValue: chiSquareSurvival(statistic, df), df, designEffect: traceA / table.df };
}

/**
 * G-test (likelihood-ratio test) of homogeneity, G = 2 Σ O ln(O / E), on the same table and df.
 * Asymptotically equal to chi-square and the natural companion of the Jensen–Shannon effect size:
 * G / 2N is the JS divergence (in nats) with the two windows weighted by their share of the runs.
 */
export function gTest(counts: CategoryCounts): TestResult | null {
  const table = contingency(counts);
  if (table === null) return null;
  if (table.df === 0) return SAME_DISTRIBUTION;
  let g = 0;
  // 0 · ln 0 = 0: an empty cell adds nothing to the likelihood ratio.
  for (const { observed, expected } of table.cells) if (observed > 0) g += observed * Math.log(observed / expected);
  g = Math.max(0, 2 * g); // never negative in exact arithmetic; rounding can leave -1e-15 when O ≈ E
  return { statistic: g, pValue: chiSquareSurvival(g, table.df), df: table.df };
}
