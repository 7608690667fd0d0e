import { describe, expect, it } from 'vitest';
import { normalTwoSidedPValue, ratioZTest, slidingFalseAlertRate, slidingLookLevel, studentTTwoSidedPValue, welchTTest } from '../../src/stats/index.js';
import {
  equivalentChiSquare,
  equivalentZ,
  logMixtureLikelihoodRatio,
  mixtureCriticalValue,
  mixtureEquivalentLevel,
  mixturePValue,
  mixturePValueOf,
  mixtureScale,
  tToZ,
} from '../helpers/mixture.js';

/** Trapezoid rule on [a, b] with n intervals. */
function integrate(f: (x: number) => number, a: number, b: number, n: number): number {
  const h = (b - a) / n;
  let s = 0.5 * (f(a) + f(b));
  for (let i = 1; i < n; i++) s += f(a + i * h);
  return s * h;
}

const normalPdf = (x: number, variance: number) => Math.exp((-0.5 * x * x) / variance) / Math.sqrt(2 * Math.PI * variance);

describe('logMixtureLikelihoodRatio and mixturePValue', () => {
  it('match values computed by hand', () => {
    // z = 3, r = 1: −½ ln 2 + (9/2)(1/2) = 2.25 − 0.34657359… ; p = e^−1.90342641
    expect(logMixtureLikelihoodRatio(9, 1, 1)).toBeCloseTo(1.9034264097200273, 14);
    expect(mixturePValue(9, 1, 1)).toBeCloseTo(0.149057012838996, 14);
    // X² = 10 on 2 df, r = 3: −ln 4 + 5 · 3/4
    expect(logMixtureLikelihoodRatio(10, 2, 3)).toBeCloseTo(2.363705638880109, 14);
    expect(mixturePValue(10, 2, 3)).toBeCloseTo(0.09407098342403646, 14);
    // X² = 12 on 3 df, r = 2: −(3/2) ln 3 + 6 · 2/3
    expect(logMixtureLikelihoodRatio(12, 3, 2)).toBeCloseTo(2.3520815669978354, 14);
    expect(mixturePValue(12, 3, 2)).toBeCloseTo(0.09517085138511591, 14);
  });

  it('is the ratio of the mixture marginal to the null density (its definition), for df 1', () => {
    // θ̂ ~ N(θ, V = 1), θ ~ N(0, τ² = r): Λ = ∫ φ(x − θ) N(θ; 0, r) dθ / φ(x).
    for (const [z, r] of [[0.5, 0.3], [2, 1], [3.5, 8], [-2.7, 20]] as const) {
      const marginal = integrate((t) => normalPdf(z - t, 1) * normalPdf(t, r), -60, 60, 60_000);
      expect(Math.log(marginal / normalPdf(z, 1))).toBeCloseTo(logMixtureLikelihoodRatio(z * z, 1, r), 8);
    }
  });

  it('has expectation 1 under the null (what makes 1/Λ a p-value), for df 1 and df 3', () => {
    for (const r of [0.2, 1, 5]) {
      // Λ·density in log space: at z = 80 Λ alone overflows while the product is ~0.
      const e1 = integrate((z) => Math.exp(logMixtureLikelihoodRatio(z * z, 1, r) - 0.5 * z * z) / Math.sqrt(2 * Math.PI), -80, 80, 80_000);
      expect(e1).toBeCloseTo(1, 8);
      // χ²₃ density: √x e^(−x/2) / (2^(3/2) Γ(3/2)), Γ(3/2) = √π/2.
      const logChi3 = (x: number) => 0.5 * Math.log(x) - x / 2 - Math.log(Math.pow(2, 1.5) * (Math.sqrt(Math.PI) / 2));
      const e3 = integrate((x) => (x === 0 ? 0 : Math.exp(logMixtureLikelihoodRatio(x, 3, r) + logChi3(x))), 0, 600, 600_000);
      expect(e3).toBeCloseTo(1, 5);
    }
  });

  it('gives p = 1 at a statistic of 0, whatever the scale and df, and at r = 0', () => {
    for (const df of [1, 2, 3.7, 10]) {
      for (const r of [0, 1e-12, 0.5, 1, 100, 1e300, Number.POSITIVE_INFINITY]) {
        expect(mixturePValue(0, df, r)).toBe(1);
        expect(logMixtureLikelihoodRatio(0, df, r)).toBeLessThanOrEqual(0);
      }
      expect(mixturePValue(50, df, 0)).toBe(1);
    }
  });

  it('is monotone: p never rises with the statistic, and falls once it is below 1', () => {
    for (const df of [1, 2.5, 5]) {
      for (const r of [0.1, 1, 10, 1000]) {
        let previous = 1;
        for (let x2 = 0; x2 <= 80; x2 += 0.25) {
          const p = mixturePValue(x2, df, r);
          expect(p).toBeLessThanOrEqual(previous);
          if (previous < 1) expect(p).toBeLessThan(previous);
          previous = p;
        }
      }
    }
  });

  it('stays finite in log space at huge statistics, and its p underflows to 0 rather than NaN', () => {
    // z = 1000, r = 4: −½ ln 5 + 5e5 · 0.8, where exp(X²/2) alone would be Infinity.
    expect(logMixtureLikelihoodRatio(1e6, 1, 4)).toBeCloseTo(400_000 - 0.5 * Math.log(5), 8);
    expect(mixturePValue(1e6, 1, 4)).toBe(0);
    expect(Number.isFinite(logMixtureLikelihoodRatio(1e300, 1, 1e300))).toBe(true);
    expect(logMixtureLikelihoodRatio(1e300, 7, 1e300)).toBeCloseTo(5e299, -290);
    // A vanishing scale: r/(1+r) keeps its digits, ln Λ ≈ r (X² − df)/2.
    expect(logMixtureLikelihoodRatio(9, 1, 1e-300) / 1e-300).toBeCloseTo(4, 10);
    expect(logMixtureLikelihoodRatio(9, 1, 1e-12) / 1e-12).toBeCloseTo(4, 6);
    // Infinite inputs take the limits of the formula.
    expect(mixturePValue(Number.POSITIVE_INFINITY, 1, 2)).toBe(0);
    expect(mixturePValue(1e6, 1, Number.POSITIVE_INFINITY)).toBe(1);
  });

  it('charges df > 1 its extra dimensions: the same X² is weaker evidence on more df', () => {
    for (const r of [0.5, 3, 30]) {
      let previous = 0;
      for (const df of [1, 2, 3, 5, 8]) {
        const p = mixturePValue(20, df, r);
        expect(p).toBeGreaterThan(previous);
        previous = p;
      }
    }
  });

  it('rejects invalid input with NaN', () => {
    expect(logMixtureLikelihoodRatio(-1, 1, 1)).toBeNaN();
    expect(logMixtureLikelihoodRatio(1, 0, 1)).toBeNaN();
    expect(logMixtureLikelihoodRatio(1, 1, -1)).toBeNaN();
    expect(mixturePValue(Number.NaN, 1, 1)).toBeNaN();
  });
});

describe('mixtureCriticalValue and mixtureEquivalentLevel', () => {
  it('is where the p-value reaches alpha, on 1 and on fractional df', () => {
    for (const alpha of [0.05, 0.01, 1e-6]) {
      for (const df of [1, 2.4, 6]) {
        for (const r of [0.3, 4, 200]) {
          expect(mixturePValue(mixtureCriticalValue(alpha, df, r), df, r) / alpha).toBeCloseTo(1, 10);
        }
      }
    }
    expect(mixtureCriticalValue(0.05, 1, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('is never looser than p = 0.0024 at alpha 0.05 nor 3.5e-4 at alpha 0.01, on one df', () => {
    for (const [alpha, floor] of [[0.05, 0.002405], [0.01, 0.0003549]] as const) {
      let best = 0;
      for (let i = -400; i <= 1000; i++) best = Math.max(best, mixtureEquivalentLevel(alpha, 1, Math.pow(10, i / 200)));
      expect(best).toBeLessThan(floor);
      expect(best).toBeGreaterThan(floor * 0.999);
    }
  });
});

describe('mixtureScale', () => {
  it('is tau² times the information X²/effect², per df', () => {
    // effect 0.5 at z = 2.5: n_eff = 6.25 / 0.25 = 25, τ = 0.2: r = 0.04 · 25 = 1.
    expect(mixtureScale(0.5, 6.25, 0.2)).toBeCloseTo(1, 14);
    expect(mixtureScale(-0.5, 6.25, 0.2)).toBeCloseTo(1, 14);
    expect(mixtureScale(0.5, 6.25, 0.2, 4)).toBeCloseTo(0.25, 14);
    // A tiny effect with a tiny statistic: their ratio, not 0/0.
    expect(mixtureScale(1e-160, 1e-300, 1) / 1e20).toBeCloseTo(1, 12);
    expect(mixtureScale(1e-300, 1e-300, 1) / 1e300).toBeCloseTo(1, 12);
  });

  it('takes the limits at the degenerate points', () => {
    expect(mixtureScale(0, 0, 0.2)).toBe(0); // no difference at all: p = 1
    expect(mixtureScale(0.3, 0, 0.2)).toBe(0); // an effect with no evidence: p = 1
    expect(mixtureScale(0, 4, 0.2)).toBe(Number.POSITIVE_INFINITY); // evidence with no effect: p = 1
    expect(mixturePValue(4, 1, mixtureScale(0, 4, 0.2))).toBe(1);
    expect(mixturePValue(Number.POSITIVE_INFINITY, 1, mixtureScale(0.4, Number.POSITIVE_INFINITY, 0.2))).toBe(0); // certain
    expect(mixtureScale(Number.NaN, 4, 0.2)).toBeNaN();
    expect(mixtureScale(0.3, 4, 0)).toBeNaN();
  });
});

describe('equivalentZ and tToZ', () => {
  it('inverts the two-sided normal p-value from 1 down to the smallest doubles', () => {
    expect(equivalentZ(0.05)).toBeCloseTo(1.959963984540054, 13);
    expect(equivalentZ(0.001)).toBeCloseTo(3.2905267314918945, 12);
    for (let e = -300; e < 0; e += 0.5) {
      const p = Math.pow(10, e);
      expect(normalTwoSidedPValue(equivalentZ(p)) / p).toBeCloseTo(1, 11);
    }
    expect(equivalentZ(1)).toBe(0);
    expect(equivalentZ(0)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(equivalentZ(5e-324))).toBe(true);
    expect(equivalentZ(-0.1)).toBeNaN();
  });

  it('turns t into the z with the same p: below t at small df, t itself at large df', () => {
    // t = 3 on 5 df: p = 0.030099247897462 (scipy: 2 * t.sf(3, 5)), z = 2.16878...
    expect(normalTwoSidedPValue(tToZ(3, 5))).toBeCloseTo(studentTTwoSidedPValue(3, 5), 14);
    expect(tToZ(3, 5)).toBeCloseTo(2.1687818754, 8);
    expect(tToZ(-3, 5)).toBeCloseTo(2.1687818754, 8);
    expect(tToZ(3, 1e6)).toBeCloseTo(3, 4);
    expect(tToZ(3, Number.POSITIVE_INFINITY)).toBe(3);
    // Past the underflow of the t tail, Wallace's approximation continues it, increasing in t.
    const huge = [1e8, 1e10, 1e12].map((t) => tToZ(t, 2));
    expect(huge[0]).toBeGreaterThan(tToZ(1e7, 2));
    expect(huge[1]).toBeGreaterThan(huge[0]!);
    expect(huge[2]).toBeGreaterThan(huge[1]!);
    expect(tToZ(Number.POSITIVE_INFINITY, 3)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('equivalentChiSquare and mixturePValueOf on the project tests', () => {
  const momentSums = (xs: number[]) => ({ n: xs.length, sum: xs.reduce((s, x) => s + x, 0), sumSq: xs.reduce((s, x) => s + x * x, 0) });
  const cur = [3, 5, 2, 6, 4, 7, 5, 3, 6, 4];
  const base = [2, 3, 1, 4, 2, 3, 2, 4, 3, 2];

  it('takes a Welch t through its own p-value, a z squared, and a chi-square on its df', () => {
    const t = welchTTest(momentSums(cur), momentSums(base))!;
    const x = equivalentChiSquare(t, 't')!;
    expect(x.df).toBe(1);
    expect(normalTwoSidedPValue(Math.sqrt(x.chiSquare))).toBeCloseTo(t.pValue, 14);
    expect(Math.sqrt(x.chiSquare)).toBeLessThan(Math.abs(t.statistic)); // df ≈ 15: t overstates
    expect(equivalentChiSquare({ statistic: -2, pValue: 0.0455 }, 'z')).toEqual({ chiSquare: 4, df: 1 });
    expect(equivalentChiSquare({ statistic: 7.5, pValue: 0.02, df: 2.6 }, 'chiSquare')).toEqual({ chiSquare: 7.5, df: 2.6 });
    expect(equivalentChiSquare({ statistic: 0, pValue: 1, df: 0 }, 'chiSquare')).toEqual({ chiSquare: 0, df: 1 });
    expect(equivalentChiSquare({ statistic: 3, pValue: 0.01 }, 'chiSquare')).toBeNull();
  });

  it('combines test, effect and tau as the formula says', () => {
    const t = welchTTest(momentSums(cur), momentSums(base))!;
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const effect = (mean(cur) - mean(base)) / mean(base);
    const z = equivalentZ(t.pValue);
    const r = 0.25 * (z * z) / (effect * effect);
    const expected = Math.min(1, Math.exp(0.5 * Math.log1p(r) - (0.5 * z * z * r) / (1 + r)));
    expect(mixturePValueOf(t, 't', effect, 0.5)).toBeCloseTo(expected, 14);
    // The mixture is stricter than the fixed test at one look.
    expect(mixturePValueOf(t, 't', effect, 0.5)!).toBeGreaterThan(t.pValue);
  });

  it('answers the degenerate tests as the tests do', () => {
    // Both windows constant and different: the test is certain (p = 0), so is the mixture.
    const certain = welchTTest(momentSums([1, 1, 1]), momentSums([2, 2, 2]))!;
    expect(mixturePValueOf(certain, 't', -0.5, 0.2)).toBe(0);
    const same = ratioZTest({ n: 3, sumX: 3, sumXSq: 3, sumY: 3, sumYSq: 3, sumXY: 3 }, { n: 3, sumX: 3, sumXSq: 3, sumY: 3, sumYSq: 3, sumXY: 3 })!;
    expect(mixturePValueOf(same, 'z', 0, 0.2)).toBe(1);
    expect(mixturePValueOf({ statistic: 0, pValue: 1, df: 0 }, 'chiSquare', 0, 0.1)).toBe(1);
    expect(mixturePValueOf({ statistic: 3, pValue: 0.0027 }, 'z', null, 0.2)).toBeNull();
  });
});

describe('slidingFalseAlertRate and slidingLookLevel', () => {
  it('match the Pickands approximation computed by hand', () => {
    // u = 3.2905 (p = 0.001 per look), 30 days of 7-day windows: 0.001 + 3 (30/7) u φ(u).
    expect(slidingFalseAlertRate(equivalentZ(0.001), 30 / 7)).toBeCloseTo(0.07618718727373931, 12);
    expect(slidingFalseAlertRate(equivalentZ(0.001), 0)).toBeCloseTo(0.001, 14);
    expect(slidingFalseAlertRate(0.5, 100)).toBe(1);
  });

  it('solves for the per-look level of a monthly chance', () => {
    const h = 30 / 7;
    const l05 = slidingLookLevel(0.05, h);
    const l01 = slidingLookLevel(0.01, h);
    expect(l05).toBeGreaterThan(6.0e-4);
    expect(l05).toBeLessThan(6.2e-4);
    expect(l01).toBeGreaterThan(9.4e-5);
    expect(l01).toBeLessThan(9.7e-5);
    for (const alpha of [0.1, 0.05, 0.01, 1e-4]) expect(slidingFalseAlertRate(equivalentZ(slidingLookLevel(alpha, h)), h) / alpha).toBeCloseTo(1, 9);
    // One look: the level is alpha itself; a longer horizon needs a lower level.
    expect(slidingLookLevel(0.05, 0)).toBeCloseTo(0.05, 12);
    expect(slidingLookLevel(0.05, 30)).toBeLessThan(slidingLookLevel(0.05, h));
    expect(slidingLookLevel(0, h)).toBeNaN();
    expect(slidingLookLevel(0.05, -1)).toBeNaN();
  });
});
