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

/**
 * Sums for a distribution of calls over categories (the tool mix) when the calls cluster in runs.
 * Per window: the runs, and over runs the total calls m of a run and m²; per category k: over runs
 * the calls c_k of that category, c_k² and c_k·m; per pair of categories called in the same run,
 * Σ c_a·c_b. These are what let the test estimate the run-to-run covariance of the categories'
 * shares without the runs themselves.
 */
export interface MixSums {
  readonly runs: number;
  readonly sumTotal: number;
  readonly sumTotalSq: number;
  readonly categories: Readonly<Record<string, CategorySums>>;
  /**
   * Σ c_a·c_b over runs for two different categories, as `products[a][b]` in either order (one order
   * is enough). A pair never called in the same run may be absent: its sum is 0.
   */
  readonly products: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface CategorySums {
  readonly sum: number;
  readonly sumSq: number;
  readonly sumXTotal: number;
}
