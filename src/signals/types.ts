/**
 * What ClickHouse returns to the daemon: aggregates per group (and per key: a tool or a fingerprint)
 * per window, never raw runs. The statistics work on these sums.
 */

/** Window index 0 is the current window; 1..N are baseline windows (one for `previous`, N for seasonal). */
export interface WindowBounds {
  readonly index: number;
  readonly startMs: number; // inclusive
  readonly endMs: number; // exclusive
}

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

/** Labels of one group: the rule's group_by columns and their values. */
export type GroupLabels = Readonly<Record<string, string>>;

export interface GroupWindowAggregate {
  readonly group: GroupLabels;
  readonly window: number;
  readonly runs: number;
  readonly exampleRunIds: readonly string[];
}
