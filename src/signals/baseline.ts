/**
 * Which baseline windows count for a group. `previous`: window 1. Seasonal: every week with runs; a
 * scalar's baseline is the median over those weeks, the runs are the median week's, and the test
 * compares against that median week (whole-week sums, so it stays a proper two-sample test).
 */
import { median } from '../stats/index.js';

export interface BaselinePick {
  readonly windows: readonly number[];
  readonly runs: number;
  readonly testWindow: number;
}

export function baselinePick(runsPerWindow: readonly number[]): BaselinePick {
  const weeks = runsPerWindow.map((r, i) => ({ r, i })).slice(1).filter((x) => x.r > 0);
  if (weeks.length === 0) return { windows: [], runs: 0, testWindow: 1 };
  const sorted = [...weeks].sort((a, b) => a.r - b.r);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { windows: weeks.map((x) => x.i), runs: mid.r, testWindow: mid.i };
}

/** Median over the picked windows of a per-window value (null where it is undefined). */
export function baselineValue(pick: BaselinePick, valueOf: (w: number) => number | null): number | null {
  return median(pick.windows.map(valueOf).filter((v): v is number => v !== null && Number.isFinite(v)));
}
