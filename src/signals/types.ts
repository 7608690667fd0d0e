/**
 * What ClickHouse returns to the daemon: aggregates per group (and per key: a tool or a fingerprint)
 * per window, never raw runs. The statistics work on these sums (their shapes live in stats/sums.ts).
 */

/** Window index 0 is the current window; 1..N are baseline windows (one for `previous`, N for seasonal). */
export interface WindowBounds {
  readonly index: number;
  readonly startMs: number; // inclusive
  readonly endMs: number; // exclusive
}

export type SumsRow = Record<string, unknown>;

/** A signal's inputs for one rule at one time: window `w` of each row indexes the rule's windows. */
export interface SignalSums {
  readonly totals: readonly SumsRow[];
  readonly keyed: readonly SumsRow[];
}
