/**
 * Distribution functions for the tests: standard normal, Student t and chi-square. Tails are computed
 * directly (never as 1 - CDF) so that small p-values keep their digits through the Holm correction.
 */
import { erfc, regularizedGammaQ, regularizedIncompleteBeta } from './special.js';

/** Φ(x), the standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** 1 - Φ(x), the standard normal upper tail. */
export function normalSurvival(x: number): number {
  return 0.5 * erfc(x / Math.SQRT2);
}

/** P(|Z| >= |z|) for a standard normal Z. */
export function normalTwoSidedPValue(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

/**
 * P(|T| >= |t|) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's is).
 * Uses P(|T| >= t) = I_{ν/(ν+t²)}(ν/2, 1/2); an infinite df is the normal limit.
 */
export function studentTTwoSidedPValue(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (df === Number.POSITIVE_INFINITY) return normalTwoSidedPValue(t);
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  return regularizedIncompleteBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = studentTTwoSidedPValue(t, df) / 2;
  return t < 0 ? tail : 1 - tail;
}

/** P(X >= x) for a chi-square variable with `df` degrees of freedom: Q(df/2, x/2). */
export function chiSquareSurvival(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return Number.NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}
