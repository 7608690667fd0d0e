/**
 * The verdict for every series of one rule evaluation (pure). An alert condition needs all of:
 * enough runs in both windows, a deviation past the threshold in the rule's direction, and, when the
 * rule asks, significance after Holm correction over every test of the rule in this evaluation
 * (all groups and keys), so a rule over 50 workflows does not page on chance.
 *
 * A firing series with a frozen baseline (the baseline value when it started firing) is compared
 * with that value instead of the live baseline, so a change that persists does not resolve itself
 * once the live baseline has absorbed it. Its condition is the deviation alone: significance was
 * established when it fired, and holding it to a test against a moving baseline would resolve it
 * for the very reason freezing exists.
 */
import { seriesId, type Outcome } from '../alerting/types.js';
import type { Rule } from '../rules/types.js';
import type { Measurement, Signal } from '../signals/index.js';
import { exceedsThreshold, holmAdjust, relativeDeviation } from '../stats/index.js';
import type { SeriesEvaluation } from './types.js';

export function conditionMet(rule: Rule, signal: Signal, m: Measurement): boolean {
  if (signal.effectSize(m.key)) return m.deviation !== null && m.deviation >= rule.threshold;
  // A key with no baseline mass (a new tool) is an unbounded rise.
  if (m.isNew) return rule.direction !== 'down';
  return exceedsThreshold(m.deviation, rule.threshold, rule.direction);
}

function hasData(rule: Rule, m: Measurement): boolean {
  return m.currentRuns >= rule.minRuns && m.baselineRuns >= rule.minRuns && m.current !== null && m.baseline !== null;
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

/**
 * `frozen`: the frozen baseline value of each firing series that has one, by series id
 * (`seriesId(rule.alert, labels)`).
 */
export function verdicts(rule: Rule, signal: Signal, measurements: readonly Measurement[], frozen: ReadonlyMap<string, number> = new Map()): SeriesEvaluation[] {
  const frozenOf = measurements.map((m) => (signal.effectSize(m.key) ? undefined : frozen.get(seriesId(rule.alert, m.labels))));
  // Only series that can alert on a test belong to the family: a group below min_runs is never
  // tested, and a frozen series is not judged by its test, so neither weakens the others' correction.
  const adjusted =
    rule.significance === null
      ? measurements.map(() => null)
      : holmAdjust(measurements.map((m, i) => (hasData(rule, m) && frozenOf[i] === undefined ? (m.test?.pValue ?? null) : null)));
  return measurements.map((live, i) => {
    const f = frozenOf[i];
    const m = f === undefined ? live : againstFrozen(live, f);
    const pValue = adjusted[i] ?? null;
    let outcome: Outcome;
    if (!hasData(rule, live)) {
      outcome = { kind: 'nodata', reason: `too few runs (current ${m.currentRuns}, baseline ${m.baselineRuns}, min_runs ${rule.minRuns})` };
    } else if (f !== undefined) {
      outcome = { kind: 'ok', active: conditionMet(rule, signal, m) };
    } else {
      const significant = rule.significance === null || (pValue !== null && pValue < rule.significance);
      outcome = { kind: 'ok', active: conditionMet(rule, signal, m) && significant };
    }
    return { ...m, rule: rule.alert, signal: rule.signal, pValue, outcome };
  });
}
