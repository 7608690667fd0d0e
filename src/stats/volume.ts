/**
 * Tests for volumes over windows of different lengths: how many runs arrived (traffic) and how much
 * they cost (spend). The windows' lengths are their exposures: a 1-day window is compared with a
 * 7-day baseline scaled by 1/7.
 */
import { normalTwoSidedPValue } from './probability.js';
import type { TestResult } from './tests.js';

/** A count of events over an exposure (a window's length, in any unit both sides share). */
export interface RateCount {
  readonly count: number;
  readonly exposure: number;
}

/**
 * Do two Poisson counts have the same rate per unit of exposure? Conditional on the total N = a + b,
 * under H0 the current count is Binomial(N, p0) with p0 = exposure_a / (exposure_a + exposure_b);
 * the test is its normal approximation (the score test), exact enough for the counts a window of
 * runs holds. N = 0 says nothing: p = 1. Null for invalid input. Traffic is burstier than Poisson
 * (hours of the day, weekdays): a rule over it sets a threshold that daily rhythm does not cross,
 * and this test guards only against chance in small counts.
 */
export function poissonRateTest(a: RateCount, b: RateCount): TestResult | null {
  if (![a.count, b.count, a.exposure, b.exposure].every(Number.isFinite) || a.count < 0 || b.count < 0 || !(a.exposure > 0) || !(b.exposure > 0)) return null;
  const n = a.count + b.count;
  if (n === 0) return { statistic: 0, pValue: 1 };
  const p0 = a.exposure / (a.exposure + b.exposure);
  const z = (a.count - n * p0) / Math.sqrt(n * p0 * (1 - p0));
  return { statistic: z, pValue: normalTwoSidedPValue(z) };
}

/** A window's spend: the sum over runs of their cost, its sum of squares, and the window's exposure. */
export interface SpendSums {
  readonly sum: number;
  readonly sumSq: number;
  readonly exposure: number;
}

/**
 * Has the spend per unit of exposure changed? Runs arrive as a Poisson process and each carries a
 * cost, so a window's spend is a compound Poisson sum with variance λ·E[cost²] per unit of exposure.
 * Under H0 both windows share λ·E[cost²], so it is pooled from both ((Σa² + Σb²) / (e_a + e_b)), as
 * the two-proportion test pools its rate: estimated from one window alone, a window that happened to
 * miss the rare expensive runs has a small sum and a small variance at once, and heavy-tailed costs
 * then fire far above alpha (measured in test/stats/signals.calibration.test.ts).
 * z = (S_a − k·S_b) / sqrt(pooled · (e_a + k²·e_b)) with k = e_a / e_b. No spend on either side: p = 1.
 * Null for invalid input.
 */
export function spendZTest(a: SpendSums, b: SpendSums): TestResult | null {
  if (![a.sum, a.sumSq, b.sum, b.sumSq, a.exposure, b.exposure].every(Number.isFinite) || !(a.exposure > 0) || !(b.exposure > 0)) return null;
  if (a.sumSq < 0 || b.sumSq < 0) return null;
  const k = a.exposure / b.exposure;
  const perExposure = (a.sumSq + b.sumSq) / (a.exposure + b.exposure);
  const v = perExposure * (a.exposure + k * k * b.exposure);
  if (!(v > 0)) return { statistic: 0, pValue: 1 };
  const z = (a.sum - k * b.sum) / Math.sqrt(v);
  return { statistic: z, pValue: normalTwoSidedPValue(z) };
}
