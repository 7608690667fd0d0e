/**
 * Which baseline windows count for a group. `previous`: window 1. Seasonal: every week with runs; a
 * scalar's baseline is the median over those weeks, the runs are the median week's, and the test
 * compares against the week whose value is that median (whole-week sums, so it stays a proper
 * two-sample test; see medianValueWindow).
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

/**
 * The baseline window a test compares with: the one whose value is the median of the picked
 * windows' values (the lower one for an even count). The test must face the value the deviation is
 * measured against: with a seasonal baseline one of the weeks may already hold the change, and a
 * test against that week would call a +80% move "no difference". Falls back to `pick.testWindow`.
 */
export function medianValueWindow(pick: BaselinePick, valueOf: (w: number) => number | null): number {
  const valued = pick.windows
    .map((w) => ({ w, v: valueOf(w) }))
    .filter((x): x is { w: number; v: number } => x.v !== null && Number.isFinite(x.v))
    .sort((a, b) => a.v - b.v || a.w - b.w);
  return valued.length === 0 ? pick.testWindow : valued[Math.floor((valued.length - 1) / 2)]!.w;
}

/** Median over the picked windows of a per-window value (null where it is undefined). */
export function baselineValue(pick: BaselinePick, valueOf: (w: number) => number | null): number | null {
  return median(pick.windows.map(valueOf).filter((v): v is number => v !== null && Number.isFinite(v)));
}
