/**
 * Repeated looks at sliding windows: what a per-look level means over a month, and the per-look
 * level from a horizon that rules use (engine/verdict.ts, lookLevel). The normal-mixture (mSPRT)
 * p-value that was the candidate replacement lives beside the calibration that rejected it
 * (test/helpers/mixture.ts, test/stats/looks.calibration.test.ts). Pure: no I/O, no clock.
 *
 * The problem. A rule re-tests the same two sliding windows (the last 7 days against the 7 before)
 * every 5 minutes. Consecutive looks share almost all their runs, but over a month the comparison
 * decorrelates and |z| wanders; the chance that it crosses a per-look critical value somewhere in the
 * month is far above the per-look level. Measured on A/A months at 100 runs per window
 * (test/stats/looks.calibration.test.ts): 0.001 per look gives a false alert in up to 7.6% of months
 * per series, 0.01 per look in 15-35%.
 *
 * The mixture (mSPRT). For an estimate θ̂ ~ N(θ, V) and a normal mixture θ ~ N(0, τ²) over the
 * effect, the likelihood ratio of the mixture against θ = 0 is
 *   Λ = (1 + r)^(−k/2) · exp((X²/2) · r/(1 + r)),   r = τ²/V,
 * with X² = z² (k = 1), or a chi-square on k df for an effect with k independent directions
 * (Robbins' normal mixture; Johari et al. 2017's mSPRT; Howard et al. 2021). E₀[Λ] = 1, so
 * p = min(1, 1/Λ) is valid at any one look (Markov), and along a growing sample with a fixed τ, Λ is
 * a martingale and p is valid over all looks at once (Ville): the always-valid p-value. τ is the
 * effect worth alerting on (the rule's threshold or a multiple of it); V comes from what a signal
 * has, V = effect²/X² (`mixtureScale`).
 *
 * Why it is not the answer here. Ville's inequality needs a martingale in the data's own time;
 * sliding windows forget runs (the baseline drops its oldest, the current window hands runs to the
 * baseline), the information does not grow, and Λ across looks is no supermartingale. At one look
 * the mixture is a fixed test with a stricter critical value (`mixtureCriticalValue`): at α = 0.05
 * never looser than |z| >= 3.04 (p = 0.0024, at r ≈ 8), at α = 0.01 never looser than |z| >= 3.57
 * (p = 3.5e-4), and with τ at the 20% threshold and 100 runs per window (r of 0.7-2) 2-45 times
 * stricter than that at α = 0.05. Yet it knows nothing of the month: at 100 runs per window, α = 0.05
 * with τ = 0.5 or 1 fired in 8-12% of A/A months per series and α = 0.01 in 1.2-3.1%, up to 2.4 and
 * 3.1 times nominal; with τ = 0.2 it met nominal but lost most of the power on a clustered series
 * (9% where the recommended level has 39%). Other combinations of e-values were considered and
 * rejected: the product or running maximum of the looks' e-values is not valid (a look is not new
 * data given the last one: it reuses almost all of its runs and forgets some), and a real e-process
 * over a month (an e-detector, Shin, Ramdas & Rinaldo 2023, or CUSUM) needs a fixed pre-change
 * reference instead of a sliding baseline: a different rule, not a replacement test.
 *
 * What works: the per-look level from the horizon. Z of a sliding two-window comparison is close to
 * a stationary Gaussian process with correlation 1 − 3h/(2w) at lag h, and the chance that such a
 * process crosses u within a horizon has a classical approximation (Pickands):
 * `slidingFalseAlertRate`. Solved for u it gives the per-look level for a chance α of any false alert
 * per series in the horizon (`slidingLookLevel`): 30 days of 7-day windows, α = 0.05 is 6.1e-4 per
 * look, α = 0.01 is 9.6e-5. Measured on A/A months (Poisson arrivals, the project's own tests, the 20%
 * threshold, `for: 30m`): at most 4.8% and 1.1% of months at 100 runs per window, 1.5% and 0.5% at
 * 500 runs a day (where the threshold does most of the work). It is one number to compare the
 * Holm-adjusted p-values with, in place of today's 0.001, and depends only on the horizon over the
 * window; a series' test enters only through how close to normal its statistic is.
 *
 * Power is set by the information, not by the method: look by look every method here is a threshold
 * on |z|, and a lower monthly false-alert chance is a higher threshold. At 100 runs per window a
 * +80% change in a clustered tool's calls (median fixed p 0.0013) is found at one look with
 * probability 0.39 at α = 0.05 per month (0.63 within the 14 days after the step); the observed case
 * (p = 0.0014) needs 1.4e-3 per look, ~7-10% a month; the observed -37% policy case (p = 0.008)
 * needs 0.008 per look, ~25-40% a month. See the test's header for the full tables.
 */
import { normalSurvival } from './probability.js';

// ---------------------------------------------------------------------------------------------------
// Sliding windows: the level per look for a false-alert chance over a horizon

/** φ(u), the standard normal density. */
function normalDensity(u: number): number {
  return Math.exp(-0.5 * u * u) / Math.sqrt(2 * Math.PI);
}

/**
 * The approximate chance that |Z| of a sliding two-window comparison (current = the last w, baseline
 * = the w before it, re-tested continuously) reaches u at least once within a horizon of
 * `horizonOverWindow` windows (30 days over 7-day windows: 30/7), with no change in the data.
 *
 * Z_t ∝ S(t−w, t] − S(t−2w, t−w] is a difference of moving sums; for runs arriving at random it is
 * close to a stationary Gaussian process whose correlation at lag h < w is 1 − 3h/(2w) (the two
 * windows each lose a share h/w of their runs, and one more share h/w changes sides). For such a
 * process (correlation 1 − C·|h| near 0) Pickands' asymptotic gives P(sup_[0,T] Z > u) ≈ C·T·u·φ(u)
 * (Pickands' constant H₁ = 1); both sides, plus the chance at the first look:
 *   P ≈ 2(1 − Φ(u)) + 3·(T/w)·u·φ(u).
 * Checked against A/A months in test/stats/looks.calibration.test.ts: discrete looks, runs arriving
 * one at a time, `for` and the deviation threshold only remove crossings, while a test whose tail is
 * a little heavier than normal at small samples adds some; at 100 runs per window the measured rates
 * were 0.1-1.1 times the approximation (cost per success, whose heavy tail makes its z conservative,
 * the lowest; the delta-method ratio z for policy the highest, 0.011 at a nominal 0.01). It does not depend on the look interval: looking every minute instead of every 5
 * cannot push the rate past the continuous limit. For a baseline that is not adjacent (seasonal: the
 * same window weeks back) the correlation falls as 1 − h/w instead, and the approximation overstates
 * the rate by 3/2: conservative.
 */
export function slidingFalseAlertRate(u: number, horizonOverWindow: number): number {
  if (!(u >= 0) || !(horizonOverWindow >= 0)) return Number.NaN;
  if (u === Number.POSITIVE_INFINITY) return 0;
  return Math.min(1, 2 * normalSurvival(u) + 3 * horizonOverWindow * u * normalDensity(u));
}

/**
 * The two-sided p-value level per look at which a sliding two-window rule has about `alpha` chance of
 * any false alert within `horizonOverWindow` windows (`slidingFalseAlertRate` solved for u, by
 * bisection). 30 days of 7-day windows: alpha 0.05 gives 6.2e-4 per look (|z| >= 3.42), alpha 0.01
 * 1.1e-4 (|z| >= 3.87). NaN outside 0 < alpha < 1; for an alpha so large that the crossing rate at
 * |z| = 1 stays below it, the level of |z| = 1.
 */
export function slidingLookLevel(alpha: number, horizonOverWindow: number): number {
  if (!(alpha > 0 && alpha < 1) || !(horizonOverWindow >= 0)) return Number.NaN;
  let lo = 1;
  let hi = 40;
  if (slidingFalseAlertRate(lo, horizonOverWindow) <= alpha) return 2 * normalSurvival(lo);
  // The rate decreases in u past 1; 60 halvings of [1, 40] reach the spacing of doubles near 40.
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (slidingFalseAlertRate(mid, horizonOverWindow) > alpha) lo = mid;
    else hi = mid;
  }
  return 2 * normalSurvival(hi);
}
