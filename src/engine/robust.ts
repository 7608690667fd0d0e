/**
 * From the fetched windows of one evaluation to what is measured (pure): the main comparison (the
 * current window against its baseline) and, when the rule has one, the confirm window against the
 * same baseline (evaluationWindows in signals/windows.ts says what was fetched).
 *
 * Robust windows. A comparison of 7 days with the 7 before is a comparison of sums, and one odd day
 * moves a sum: a one-day spike pushes the current window past the threshold while it lasts (and the
 * 7-day alert then holds until the day leaves the window), and a week later, from inside the
 * baseline, it makes its absence look like a change (the echo). So each window of a robust
 * comparison is fetched as days, and per group the most outlying day of each window is left out: the
 * day whose own comparison with the rest of its window passes the rule's threshold (either way) and
 * is significant at TRIM_P (the signal's own test). At most one day per window: a trimmed mean,
 * not a filter, so a change that lasts several days stays in the window (it moves the other days
 * too), and a weekly rhythm that makes one weekday different loses that day from both windows alike.
 * Days are compared through the signal's own measure, so every signal, distributions included, is
 * trimmed the same way. Trimmed days are reported in the series' extras.
 */
import { resolveThresholdOf, type Rule } from '../rules/types.js';
import type { Measurement, Signal } from '../signals/index.js';
import { groupCount, mergeWindows, onlyGroups, sharedMerge } from '../signals/mergeWindows.js';
import { groupKeyOf } from '../signals/sql.js';
import type { SignalSums } from '../signals/sums.js';
import type { EvaluationWindows } from '../signals/windows.js';
import type { WindowBounds } from '../signals/types.js';
import { conditionMet } from './verdict.js';

/** A day is trimmed only on strong evidence: seven days per window are looked at every evaluation. */
export const TRIM_P = 0.001;

export interface Assembled {
  /** Window 0 the current window, 1..N the baseline (windowsFor's numbering). */
  readonly main: SignalSums;
  /** Window 0 the confirm window, 1..N the same baseline as `main`; null without a confirm window. */
  readonly confirm: SignalSums | null;
  /** Per group: the fetched windows (days) left out. */
  readonly trimmed: ReadonlyMap<string, readonly number[]>;
}

/** Moving groups count as few below 1/FEW_MOVING of the groups: then their rows are merged apart. */
const FEW_MOVING = 4;

const PAIR: readonly WindowBounds[] = [
  { index: 0, startMs: 0, endMs: 0 },
  { index: 1, startMs: 0, endMs: 0 },
];

/**
 * The day of `days` (fetched indexes) that stands out most in each group, if one does. `own`: the
 * candidates' rows alone, when they are few (see assemble), merged for this rule; otherwise every
 * group's rows are merged once for all the rules reading them and the candidates picked after.
 */
function outlierDays(rule: Rule, signal: Signal, sums: SignalSums, days: readonly number[], candidates: ReadonlySet<string>, own: SignalSums | null): Map<string, number> {
  const best = new Map<string, { day: number; score: number }>();
  if (days.length < 3) return new Map();
  const inWindow = new Set(days);
  for (const day of days) {
    const target = (w: number) => (w === day ? 0 : inWindow.has(w) ? 1 : null);
    const oneOut = own !== null ? mergeWindows(rule, own, target) : onlyGroups(rule, sharedMerge(rule, sums, `day ${day} of ${days.join(',')}`, target), (g) => candidates.has(g));
    for (const m of signal.measure(rule, PAIR, oneOut)) {
      if (!standsOut(rule, signal, m)) continue;
      const group = groupKeyOf(rule, m.labels);
      const score = m.isNew ? Number.POSITIVE_INFINITY : Math.abs(m.deviation ?? 0);
      const prev = best.get(group);
      if (prev === undefined || score > prev.score) best.set(group, { day, score });
    }
  }
  return new Map([...best].map(([g, b]) => [g, b.day]));
}

function standsOut(rule: Rule, signal: Signal, m: Measurement): boolean {
  if (m.currentRuns === 0 || m.baselineRuns === 0) return false;
  // A key that is only on this day (a one-day new fingerprint, a tool called that day only) stands out.
  const past = m.isNew || conditionMet(rule, signal, m, rule.threshold, 'both');
  // Without a test (too few runs to estimate a variance) nothing shows that the day is more than noise.
  return past && m.test !== null && m.test.pValue < TRIM_P;
}

/**
 * Groups whose whole-window comparison moves at least the resolve threshold (either way), or shows a
 * new key: only there can leaving a day out change a verdict. Trimming is looked at for these alone,
 * so a fleet of stable groups costs one measure per window, not one per day.
 */
function movingGroups(rule: Rule, signal: Signal, main: SignalSums, windows: readonly WindowBounds[]): Set<string> {
  const out = new Set<string>();
  for (const m of signal.measure(rule, windows, main)) {
    if (m.isNew || conditionMet(rule, signal, m, resolveThresholdOf(rule), 'both')) out.add(groupKeyOf(rule, m.labels));
  }
  return out;
}

/**
 * `base` (the shared merge without trimming) with the trimmed groups merged again without their
 * days: only the groups that lost a day cost a merge of their own.
 */
function withTrims(rule: Rule, sums: SignalSums, base: SignalSums, trimmed: ReadonlyMap<string, readonly number[]>, target: (w: number) => number | null): SignalSums {
  if (trimmed.size === 0) return base;
  const untouched = onlyGroups(rule, base, (g) => !trimmed.has(g));
  const redone = mergeWindows(rule, onlyGroups(rule, sums, (g) => trimmed.has(g)), (w, g) => (trimmed.get(g)!.includes(w) ? null : target(w)));
  return { totals: [...untouched.totals, ...redone.totals], keyed: [...untouched.keyed, ...redone.keyed] };
}

export function assemble(rule: Rule, signal: Signal, plan: EvaluationWindows, sums: SignalSums): Assembled {
  const trimmed = new Map<string, number[]>();
  const mainOf = new Map<number, number>();
  plan.parts.forEach((ws, i) => ws.forEach((w) => mainOf.set(w, i)));
  const toMain = (w: number) => mainOf.get(w) ?? null;
  const whole = sharedMerge(rule, sums, 'main', toMain);
  if (plan.robust) {
    const moving = movingGroups(rule, signal, whole, plan.main);
    // Few groups moving (the usual case in a large fleet): their rows alone are merged for each day,
    // a filter of the rows instead of a merge of every group per day. The same rows in the same order
    // either way, so the same sums.
    const own = moving.size > 0 && moving.size * FEW_MOVING < groupCount(rule, sums) ? onlyGroups(rule, sums, (g) => moving.has(g)) : null;
    for (const days of moving.size === 0 ? [] : plan.parts) {
      for (const [group, day] of outlierDays(rule, signal, sums, days, moving, own)) trimmed.set(group, [...(trimmed.get(group) ?? []), day]);
    }
  }
  const main = withTrims(rule, sums, whole, trimmed, toMain);
  if (plan.confirm === null) return { main, confirm: null, trimmed };
  // The confirm window against the (trimmed) baseline: window 0 is the confirm window.
  const toConfirm = (w: number) => (w === plan.confirm ? 0 : (mainOf.get(w) ?? 0) > 0 ? mainOf.get(w)! : null);
  // Only the baseline's trims apply: the confirm window may be the current window's last day, which
  // the current window left out (a spike on it) while the confirm window must still see it.
  const baselineDays = new Set(plan.parts.slice(1).flat());
  const baselineTrims = new Map([...trimmed].map(([g, ds]) => [g, ds.filter((d) => baselineDays.has(d))] as const).filter(([, ds]) => ds.length > 0));
  const confirm = withTrims(rule, sums, sharedMerge(rule, sums, 'confirm', toConfirm), baselineTrims, toConfirm);
  return { main, confirm, trimmed };
}

/** The trimmed days of a measurement's group (`group`: its groupKeyOf) as extras (ISO dates of the days' starts). */
export function trimmedExtras(plan: EvaluationWindows, trimmed: ReadonlyMap<string, readonly number[]>, m: Measurement, group: string): Measurement {
  const days = trimmed.get(group);
  if (days === undefined || days.length === 0) return m;
  const extra: Record<string, number | string | null> = { ...(m.extra ?? {}) };
  for (const d of days) {
    const which = (plan.parts[0] ?? []).includes(d) ? 'trimmed_current_day' : 'trimmed_baseline_day';
    extra[which] = new Date(plan.fetch[d]!.startMs).toISOString();
  }
  return { ...m, extra };
}

