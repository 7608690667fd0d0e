/**
 * The normal-mixture (mSPRT) p-value and the conversions it needs: the alternative to the horizon
 * level (src/stats/sequential.ts) that the repeated-looks calibration measured and rejected (its
 * header says why). Kept beside that calibration, which reports it as the comparison.
 */
import { chiSquareSurvival, normalSurvival, studentTTwoSidedPValue, type TestResult } from '../../src/stats/index.js';


/**
 * ln Λ for a statistic X² on `df` degrees of freedom (z² for df 1) and the mixture scale r = τ²/V:
 *   ln Λ = −(df/2)·ln(1 + r) + (X²/2)·r/(1 + r).
 * Computed in log space: X² of 10⁶ (a z of 1000) is an ordinary value here, exp(X²/2) is not.
 *
 * Limits, each the limit of the formula: r = 0 (no information, or a mixture on no effect) gives
 * ln Λ = 0; r = ∞ with a finite X² gives −∞ (a mixture on effects infinitely larger than the
 * estimate's error, refuted by any finite statistic); X² = ∞ with r > 0 (a difference the test calls
 * certain, p = 0) gives +∞. NaN for a negative or NaN X² or r, or df <= 0.
 */
export function logMixtureLikelihoodRatio(chiSquare: number, df: number, r: number): number {
  if (!(chiSquare >= 0) || !(df > 0) || !(r >= 0)) return Number.NaN;
  if (r === 0) return 0;
  if (chiSquare === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (r === Number.POSITIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  // r/(1+r) written as 1/(1 + 1/r) keeps its digits for r near the top of the double range.
  return -0.5 * df * Math.log1p(r) + (0.5 * chiSquare) / (1 + 1 / r);
}

/**
 * The mixture's p-value, min(1, 1/Λ): under H0 (and the normal approximation of the statistic)
 * P(p <= α) <= α at one look, by Markov's inequality on E[Λ] = 1; along a growing sample with a
 * fixed τ it holds over every look at once (Ville), which sliding windows do not have: see the
 * header. 1 when X² = 0 (then Λ = (1+r)^(−df/2) <= 1 whatever r), 0 when X² = ∞ and r > 0.
 */
export function mixturePValue(chiSquare: number, df: number, r: number): number {
  const logLambda = logMixtureLikelihoodRatio(chiSquare, df, r);
  if (Number.isNaN(logLambda)) return Number.NaN;
  return logLambda <= 0 ? 1 : Math.exp(-logLambda);
}

/**
 * The X² at which the mixture p-value reaches α (its critical value on the chi-square scale):
 *   X²* = 2·(1 + r)/r · (ln(1/α) + (df/2)·ln(1 + r)).
 * Infinite for r = 0 (no information never rejects). With `chiSquareSurvival(X²*, df)` it gives the
 * fixed-test level the mixture amounts to at one look, which is how conservative it is there.
 */
export function mixtureCriticalValue(alpha: number, df: number, r: number): number {
  if (!(alpha > 0 && alpha < 1) || !(df > 0) || !(r >= 0)) return Number.NaN;
  if (r === 0) return Number.POSITIVE_INFINITY;
  return 2 * (1 + 1 / r) * (-Math.log(alpha) + 0.5 * df * Math.log1p(r));
}

/** The one-look fixed-test level the mixture amounts to: P(χ²_df >= X²*) at scale r. */
export function mixtureEquivalentLevel(alpha: number, df: number, r: number): number {
  return chiSquareSurvival(mixtureCriticalValue(alpha, df, r), df);
}

// ---------------------------------------------------------------------------------------------------
// The mixture scale from what a signal has

/**
 * r = τ²·n_eff/df, the mixture scale for an effect `effect` whose test statistic is X² (z² or t²
 * turned into z², see `equivalentChiSquare`), with τ the effect worth alerting on, in the effect's
 * own units (a relative deviation for scalars, a Jensen–Shannon distance for distributions).
 *
 * n_eff = X²/effect² is the information in the windows, the reciprocal of the estimated variance V of
 * the effect: for a scalar, effect/z = (c − b)/b ÷ (c − b)/SE = SE/b, the standard error of the
 * relative deviation, which depends on the windows' spread and not on their difference (so under H0
 * it is, to first order, independent of z, as a plug-in variance should be). Then r = τ²/V.
 * For df > 1 the prior is spread over df independent directions with a total expected squared
 * effect of τ², hence the division by df (df = 1 gives the plain τ²·n_eff); without it a many-category
 * mix would be tested against effects √df times larger than the one worth alerting on.
 *
 * Degenerate cases, chosen so that the p-value is the limit of the formula:
 * - X² = 0 (no difference): r = 0, whatever the effect (0/0 when both are 0): p = 1.
 * - effect = 0 with X² > 0 (the effect was rounded away, or the test saw a table the effect size did
 *   not, like pooled categories): r = ∞, and the p-value is 1: no alert without an effect.
 * - X² = ∞ (the test says certain, p = 0) with an effect: r = ∞, and the p-value is 0.
 * NaN for a NaN or infinite effect, a negative X², τ <= 0 or df <= 0.
 */
export function mixtureScale(effect: number, chiSquare: number, tau: number, df = 1): number {
  if (!Number.isFinite(effect) || !(chiSquare >= 0) || !(tau > 0) || !(df > 0)) return Number.NaN;
  if (chiSquare === 0) return 0;
  if (effect === 0) return Number.POSITIVE_INFINITY;
  // τ²·X²/effect² as (τ·|z|/|effect|)²: a tiny effect with a tiny statistic (both near the bottom of
  // the double range) gives their ratio instead of 0/0 or ∞·0, and it overflows only if r itself does.
  const q = (tau * Math.sqrt(chiSquare)) / Math.abs(effect);
  return (q * q) / df;
}

// ---------------------------------------------------------------------------------------------------
// Statistics on the normal scale

/**
 * Wichura's AS 241 (PPND16): the standard normal quantile of a lower tail q in (0, 0.5], to ~1e-16.
 * The far tail takes ln q, so that a q below the smallest double (half of a subnormal p) still works.
 */
function normalQuantileLower(q: number, logQ: number): number {
  const d = q - 0.5;
  if (Math.abs(d) <= 0.425) {
    const r = 0.180625 - d * d;
    return (
      (d *
        (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r +
          13731.693765509461125) * r + 1971.5909503065514427) * r + 133.14166789178437745) * r + 3.387132872796366608)) /
      (((((((5226.495278852854561 * r + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r +
        5394.1960214247511077) * r + 687.1870074920579083) * r + 42.313330701600911252) * r + 1)
    );
  }
  let r = Math.sqrt(-logQ);
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x =
      (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r +
        3.64784832476320460504) * r + 5.7694972214606914055) * r + 4.6303378461565452959) * r + 1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r +
        0.68976733498510000455) * r + 1.6763848301838038494) * r + 2.05319162663775882187) * r + 1);
  } else {
    r -= 5;
    x =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r +
        0.29656057182850489123) * r + 1.7848265399172913358) * r + 5.4637849111641143699) * r + 6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
        0.0148753612908506148525) * r + 0.13692988092273580531) * r + 0.59983220655588793769) * r + 1);
  }
  return -x;
}

/**
 * |z| whose two-sided normal p-value is `pValue`: the test's evidence on the normal scale, whatever
 * its reference distribution. One Newton step on ln P(Z >= z) polishes AS 241 to the precision of the
 * project's own normal tail, so that `normalTwoSidedPValue(equivalentZ(p))` gives p back. p >= 1
 * gives 0, p = 0 gives ∞, NaN or a negative p gives NaN.
 */
export function equivalentZ(pValue: number): number {
  if (!(pValue >= 0)) return Number.NaN;
  if (pValue >= 1) return 0;
  if (pValue === 0) return Number.POSITIVE_INFINITY;
  const q = pValue / 2;
  const logQ = Math.log(pValue) - Math.LN2;
  let z = -normalQuantileLower(q, logQ);
  const tail = normalSurvival(z);
  if (tail > 0 && z > 0) {
    const density = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    if (density > 0) z += (Math.log(tail) - logQ) * (tail / density);
  }
  return z;
}

/**
 * The normal deviate of a t statistic: |z| with the t test's own two-sided p-value, so that a
 * threshold on z keeps the t test's level at small df (t² overstates the evidence there: t = 3 on
 * 5 df is p = 0.030, z = 3 is p = 0.0027); for df past a few hundred it is t itself to 3 digits.
 * Where the t tail underflows (|t| in the dozens and more) Wallace's (1959) approximation
 * z = (8ν + 1)/(8ν + 3) · √(ν·ln(1 + t²/ν)) takes over, accurate there to a few parts in 10⁴.
 * Returns |z| (the sign is the statistic's). An infinite df is the normal itself.
 */
export function tToZ(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (df === Number.POSITIVE_INFINITY || !Number.isFinite(t)) return Math.abs(t);
  const p = studentTTwoSidedPValue(t, df);
  if (p > 0) return equivalentZ(p);
  return ((8 * df + 1) / (8 * df + 3)) * Math.sqrt(df * Math.log1p((t / df) * t));
}

/** How a `TestResult`'s statistic is distributed under H0. */
export type StatisticKind = 'z' | 't' | 'chiSquare';

/**
 * A test's statistic as X² on df degrees of freedom, the mixture's input: z² for a z test; for Welch
 * the normal deviate of the t test's own p-value, squared (`equivalentZ`; from t and df by `tToZ`
 * where that p-value underflowed to 0); for chi-square the statistic itself on its df (Rao–Scott's
 * fractional df included). df 0 (one category in both windows) is X² = 0 on df 1, "no difference".
 * Null for a missing df where one is needed, or a NaN statistic.
 */
export function equivalentChiSquare(test: Pick<TestResult, 'statistic' | 'pValue' | 'df'>, kind: StatisticKind): { chiSquare: number; df: number } | null {
  const s = test.statistic;
  if (Number.isNaN(s)) return null;
  switch (kind) {
    case 'z':
      return { chiSquare: s * s, df: 1 };
    case 't': {
      if (!Number.isFinite(s)) return { chiSquare: Number.POSITIVE_INFINITY, df: 1 };
      let z = test.pValue > 0 ? equivalentZ(test.pValue) : Number.NaN;
      if (Number.isNaN(z) && test.df !== undefined) z = tToZ(s, test.df);
      return Number.isNaN(z) ? null : { chiSquare: z * z, df: 1 };
    }
    case 'chiSquare':
      if (test.df === undefined || !(test.df >= 0) || !(s >= 0)) return null;
      return test.df === 0 ? { chiSquare: 0, df: 1 } : { chiSquare: s, df: test.df };
  }
}

/**
 * The mixture p-value of one look, from what a signal has: its test result, the observed effect
 * (relative deviation, or effect size for distributions) and τ (the effect worth alerting on: the
 * rule's threshold or a multiple of it). Null when the effect is undefined (a baseline of 0) or the
 * statistic is unusable; p = 1 at a statistic of 0, p = 0 for a difference the test calls certain.
 */
export function mixturePValueOf(test: Pick<TestResult, 'statistic' | 'pValue' | 'df'>, kind: StatisticKind, effect: number | null, tau: number): number | null {
  if (effect === null || !Number.isFinite(effect)) return null;
  const x = equivalentChiSquare(test, kind);
  if (x === null) return null;
  const r = mixtureScale(effect, x.chiSquare, tau, x.df);
  const p = mixturePValue(x.chiSquare, x.df, r);
  return Number.isNaN(p) ? null : p;
}

