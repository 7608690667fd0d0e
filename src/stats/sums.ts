/**
 * Owns the input shapes of the significance tests: the sums and counts one window reduces to
 * (ClickHouse returns these, never raw runs). The signals build them; the tests in tests.ts read them.
 */

/** Sums for a mean-type statistic (Welch's t-test from sums and sums of squares). */
export interface MomentSums {
  readonly n: number;
  readonly sum: number;
  readonly sumSq: number;
}

/** Sums for a ratio of means x/y over runs (cost per success = mean cost / success share), delta method. */
export interface RatioSums {
  readonly n: number;
  readonly sumX: number;
  readonly sumXSq: number;
  readonly sumY: number;
  readonly sumYSq: number;
  readonly sumXY: number;
}

/** Counts for a proportion (two-proportion test). */
export interface ProportionCounts {
  readonly successes: number;
  readonly trials: number;
}
