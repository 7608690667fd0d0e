/**
 * The verdict for every series of one rule evaluation (pure). An alert condition needs all of:
 * enough runs in both windows, a deviation past the threshold in the rule's direction, and, when the
 * rule asks, significance after Holm correction over every test of the rule in this evaluation
 * (all groups and keys), so a rule over 50 workflows does not page on chance. With a confirm window
 * (`confirm_window`) the last part of the current window must show the change too, against the same
 * baseline, as the short window of a multi-window alert does: a change that is over (a spike that
 * ended, a revert) neither starts nor holds an alert of the long window.
 *
 * A firing series with a frozen baseline (the baseline value when it started firing) is compared
 * with that value instead of the live baseline, so a change that persists does not resolve itself
 * once the live baseline has absorbed it. Its condition is the deviation alone: significance was
 * established when it fired, and holding it to a test against a moving baseline would resolve it
 * for the very reason freezing exists.
 *
 * Hysteresis: a firing series holds while its deviation is at least the resolve threshold
 * (`resolve_threshold`, by default half the threshold), and while its confirm window has not come
 * back to the baseline (stillConfirmed), so a deviation hovering at the threshold does not fire,
 * resolve and fire again.
 */
import { seriesId, type Outcome } from '../alerting/types.js';
import { resolveThresholdOf, VOLUME_SIGNALS, type Direction, type Rule } from '../rules/types.js';
import type { Measurement, Signal } from '../signals/index.js';
import { exceedsThreshold, holmAdjust, relativeDeviation, slidingLookLevel } from '../stats/index.js';
import type { SeriesEvaluation } from './types.js';

export function conditionMet(rule: Rule, signal: Signal, m: Measurement, threshold = rule.threshold, direction: Direction = rule.direction): boolean {
  // An absolute threshold (a budget, a ceiling, a floor) is the current value against it, in the signal's unit.
  if (rule.absolute) return m.current !== null && (rule.absolute.bound === 'above' ? m.current > threshold : m.current < threshold);
  if (signal.effectSize(m.key, rule)) return m.deviation !== null && m.deviation >= threshold;
  // A key with no baseline mass (a new tool) is an unbounded rise.
  if (m.isNew) return direction !== 'down';
  return exceedsThreshold(m.deviation, threshold, direction);
}

/** The horizon over which `significance` bounds the chance of a false alert per series. */
export const SIGNIFICANCE_HORIZON_MS = 30 * 24 * 3_600_000;

const levels = new WeakMap<Rule, number>();

/**
 * The level one look's (Holm-adjusted) p-values are compared with. A rule's `significance` is the
 * chance of any false alert per series over 30 days of looks, not per look: the same sliding windows
 * are re-tested every few minutes, and a per-look level of 0.001 on 7-day windows is a false alert
 * in ~5-8% of months at 100 runs per window (test/stats/looks.calibration.test.ts). The per-look
 * level follows from the windows' length (stats/sequential.ts, slidingLookLevel): 30 days hold
 * fewer independent 7-day comparisons than 1-day ones. A seasonal baseline (weeks back, not
 * adjacent) decorrelates more slowly, 1 - h/w instead of 1 - 3h/(2w), which counts as 2/3 as many
 * windows.
 */
export function lookLevel(rule: Rule): number {
  if (rule.significance === null) return 1;
  let level = levels.get(rule);
  if (level === undefined) {
    const windows = (SIGNIFICANCE_HORIZON_MS / rule.windowMs) * (rule.baseline.kind === 'seasonal' ? 2 / 3 : 1);
    level = slidingLookLevel(rule.significance, windows);
    levels.set(rule, level);
  }
  return level;
}

/**
 * Enough runs to judge. A volume (runs, spend) needs none in the current window: a drop to zero is
 * the change. An absolute threshold needs no baseline: an absolute volume (a budget) needs nothing
 * but its value, a rate needs min_runs in the current window.
 */
function hasData(rule: Rule, m: Measurement): boolean {
  const volume = VOLUME_SIGNALS.has(rule.signal);
  if (rule.absolute) return m.current !== null && (volume || m.currentRuns >= rule.minRuns);
  return (volume || m.currentRuns >= rule.minRuns) && m.baselineRuns >= rule.minRuns && m.current !== null && m.baseline !== null;
}

function noDataReason(rule: Rule, m: Measurement): string {
  if (rule.absolute) return m.current === null ? 'no value in the current window' : `too few runs (current ${m.currentRuns}, min_runs ${rule.minRuns})`;
  if (VOLUME_SIGNALS.has(rule.signal)) return `too few runs in the baseline (${m.baselineRuns}, min_runs ${rule.minRuns})`;
  return `too few runs (current ${m.currentRuns}, baseline ${m.baselineRuns}, min_runs ${rule.minRuns})`;
}

/**
 * Runs the confirm window needs to judge: min_runs scaled to its length (the same rate of runs as
 * the window's), at least 1. Below it the confirm window does not veto: a quiet day says nothing.
 */
export function confirmMinRuns(rule: Rule): number {
  return rule.confirmWindowMs === undefined ? 0 : Math.max(1, Math.ceil((rule.minRuns * rule.confirmWindowMs) / rule.windowMs));
}

/**
 * Whether the confirm window still shows the change of a firing series. The confirm window is the
 * noisy one (a day against a week: sqrt(7) times the standard error), so its band is the wider: a
 * scalar holds until the last day is back at the baseline (its deviation has crossed 0 against the
 * way the series moved), not merely under the resolve threshold, which a persisting change dips
 * under by chance and would fire again after (two alerts for one change). A distance has no way
 * back past 0; it holds at the resolve threshold.
 */
function stillConfirmed(rule: Rule, signal: Signal, m: Measurement, cm: Measurement): boolean {
  if (rule.absolute || signal.effectSize(cm.key, rule) || cm.isNew) return conditionMet(rule, signal, cm, resolveThresholdOf(rule));
  const way: Direction = rule.direction !== 'both' ? rule.direction : (m.deviation ?? 0) < 0 ? 'down' : 'up';
  return cm.deviation === null || (way === 'up' ? cm.deviation > 0 : cm.deviation < 0);
}

/** The measurement against a frozen baseline value: the live baseline moves to `extra.live_baseline`. */
function againstFrozen(m: Measurement, frozen: number): Measurement {
  return {
    ...m,
    baseline: frozen,
    deviation: m.current === null ? null : relativeDeviation(m.current, frozen),
    isNew: false,
    extra: { ...(m.extra ?? {}), live_baseline: m.baseline, frozen_baseline: frozen },
  };
}

export interface VerdictContext {
  /** Ids of the rule's firing series: they resolve at the resolve threshold, not the threshold. */
  readonly holding?: ReadonlySet<string>;
  /** The confirm window's measurements (against the same baseline); absent or null: no confirm window. */
  readonly confirm?: readonly Measurement[] | null;
}

/**
 * `frozen`: the frozen baseline value of each firing series that has one, by series id
 * (`seriesId(rule.alert, labels)`).
 */
export function verdicts(
  rule: Rule,
  signal: Signal,
  measurements: readonly Measurement[],
  frozen: ReadonlyMap<string, number> = new Map(),
  context: VerdictContext = {},
): SeriesEvaluation[] {
  const ids = measurements.map((m) => seriesId(rule.alert, m.labels));
  // An absolute threshold has no baseline to freeze.
  const frozenOf = measurements.map((m, i) => (rule.absolute || signal.effectSize(m.key, rule) ? undefined : frozen.get(ids[i]!)));
  const confirmOf = context.confirm ? new Map(context.confirm.map((m) => [seriesId(rule.alert, m.labels), m])) : null;
  // Only series that can alert on a test belong to the family: a group below min_runs is never
  // tested, and a frozen or firing series is not judged by its test, so none weakens the others' correction.
  const judged = measurements.map((m, i) => hasData(rule, m) && frozenOf[i] === undefined && !(context.holding?.has(ids[i]!) ?? false));
  // An absolute threshold is a limit, not a comparison: nothing to test.
  const adjusted =
    rule.significance === null || rule.absolute ? measurements.map(() => null) : holmAdjust(measurements.map((m, i) => (judged[i] ? (m.test?.pValue ?? null) : null)));
  return measurements.map((live, i) => {
    const f = frozenOf[i];
    const holding = context.holding?.has(ids[i]!) ?? false;
    const threshold = holding ? resolveThresholdOf(rule) : rule.threshold;
    let m = f === undefined ? live : againstFrozen(live, f);
    let confirmed = true;
    if (confirmOf !== null) {
      const c = confirmOf.get(ids[i]!);
      if (c !== undefined && c.currentRuns >= confirmMinRuns(rule) && c.current !== null) {
        const cm = f === undefined ? c : againstFrozen(c, f);
        confirmed = holding ? stillConfirmed(rule, signal, m, cm) : conditionMet(rule, signal, cm, threshold);
        m = { ...m, extra: { ...(m.extra ?? {}), confirm_current: cm.current, confirm_deviation: cm.deviation, confirm_runs: cm.currentRuns } };
      }
    }
    const pValue = adjusted[i] ?? null;
    let outcome: Outcome;
    if (!hasData(rule, live)) {
      outcome = { kind: 'nodata', reason: noDataReason(rule, m) };
    } else if (f !== undefined || holding) {
      outcome = { kind: 'ok', active: conditionMet(rule, signal, m, threshold) && confirmed };
    } else {
      const significant = rule.significance === null || rule.absolute !== undefined || (pValue !== null && pValue < lookLevel(rule));
      outcome = { kind: 'ok', active: conditionMet(rule, signal, m) && significant && confirmed };
    }
    return { ...m, rule: rule.alert, signal: rule.signal, pValue, outcome };
  });
}
