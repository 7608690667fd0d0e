/** Where the current and baseline windows fall for a rule evaluated at a given time (pure). */
import { VOLUME_SIGNALS, type BaselineSpec, type Rule } from '../rules/types.js';
import type { WindowBounds } from './types.js';

const WEEK = 7 * 24 * 3_600_000;

/** Index 0 is the current window; 1..N are the baseline windows. */
export function windowsFor(windowMs: number, baseline: BaselineSpec, at: number): WindowBounds[] {
  const current: WindowBounds = { index: 0, startMs: at - windowMs, endMs: at };
  if (baseline.kind === 'previous') {
    const end = current.startMs - baseline.offsetMs;
    return [current, { index: 1, startMs: end - baseline.lengthMs, endMs: end }];
  }
  const out = [current];
  for (let k = 1; k <= baseline.weeks; k++) out.push({ index: k, startMs: at - windowMs - k * WEEK, endMs: at - k * WEEK });
  return out;
}


const DAY = 24 * 3_600_000;
/** A window is split into days for trimming only from this length on: with two days there is no majority. */
export const ROBUST_MIN_MS = 3 * DAY;

/**
 * Every window one evaluation of a rule reads, and how they make up what the signal measures.
 * `main` is windowsFor's list (0 current, 1..N baseline). With a robust previous baseline the
 * current and the baseline window are each fetched as days (`parts`), so one odd day can be left
 * out of either (engine/robust.ts); a confirm window is fetched as a window of its own, unless it is
 * the current window's last day.
 */
export interface EvaluationWindows {
  readonly main: readonly WindowBounds[];
  /** What the store is asked for, numbered 0..M-1. */
  readonly fetch: readonly WindowBounds[];
  /** Per main window, the fetched windows whose sums make it up (in time order). */
  readonly parts: readonly (readonly number[])[];
  /** Whether `parts` are days to trim (true) or whole windows (false). */
  readonly robust: boolean;
  /** The fetched index of the confirm window, or null. */
  readonly confirm: number | null;
}

/** Whether a rule's comparison drops odd days: a previous baseline not marked `robust: false`, windows of 3 days or more. */
export function isRobust(rule: Pick<Rule, 'windowMs' | 'baseline'> & Partial<Pick<Rule, 'signal' | 'absolute'>>): boolean {
  // Not for an absolute threshold (no baseline, and a day over budget is the point, not an outlier), nor
  // for volumes, whose value is a sum over the window's days: leaving one out would change its length.
  if (rule.absolute !== undefined || (rule.signal !== undefined && VOLUME_SIGNALS.has(rule.signal))) return false;
  return rule.baseline.kind === 'previous' && rule.baseline.robust !== false && rule.windowMs >= ROBUST_MIN_MS && rule.baseline.lengthMs >= ROBUST_MIN_MS;
}

/** `w` cut into day-long pieces counted back from its end (the first absorbs a remainder), numbered from `first`. */
function days(w: WindowBounds, first: number): WindowBounds[] {
  const n = Math.max(1, Math.round((w.endMs - w.startMs) / DAY));
  const out: WindowBounds[] = [];
  for (let i = 0; i < n; i++) {
    const startMs = w.endMs - (n - i) * DAY;
    out.push({ index: first + i, startMs: i === 0 ? w.startMs : startMs, endMs: i === n - 1 ? w.endMs : startMs + DAY });
  }
  return out;
}

/**
 * Rules with the same read shape read the same windows at any time (evaluationWindows) through the same
 * filter and grouping: within a group (whose rules with one filter ask for one union of key kinds),
 * the same queries. What a backtest's batch of times and a cold start's prefetch are shared by.
 */
export function readShape(rule: Pick<Rule, 'where' | 'groupBy' | 'windowMs' | 'baseline' | 'confirmWindowMs'> & Partial<Pick<Rule, 'signal' | 'absolute'>>): string {
  return JSON.stringify([rule.where, rule.groupBy, rule.windowMs, rule.baseline, rule.confirmWindowMs ?? null, isRobust(rule)]);
}

export function evaluationWindows(rule: Pick<Rule, 'windowMs' | 'baseline' | 'confirmWindowMs'> & Partial<Pick<Rule, 'signal' | 'absolute'>>, at: number): EvaluationWindows {
  const main = windowsFor(rule.windowMs, rule.baseline, at);
  const robust = isRobust(rule);
  const fetch: WindowBounds[] = [];
  const parts = main.map((w) => {
    const pieces = robust ? days(w, fetch.length) : [{ ...w, index: fetch.length }];
    fetch.push(...pieces);
    return pieces.map((p) => p.index);
  });
  let confirm: number | null = null;
  if (rule.confirmWindowMs !== undefined && rule.confirmWindowMs < rule.windowMs) {
    const startMs = at - rule.confirmWindowMs;
    // A confirm window of one day is the current window's last day when that is fetched as days.
    const last = fetch[parts[0]![parts[0]!.length - 1]!]!;
    if (robust && last.startMs === startMs && last.endMs === at) confirm = last.index;
    else {
      confirm = fetch.length;
      fetch.push({ index: confirm, startMs, endMs: at });
    }
  }
  return { main, fetch, parts, robust, confirm };
}
