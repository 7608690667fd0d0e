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
