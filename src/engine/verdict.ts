/**
 * The verdict for every series of one rule evaluation (pure). An alert condition needs all of:
 * enough runs in both windows, a deviation past the threshold in the rule's direction, and, when the
 * rule asks, significance after Holm correction over every test of the rule in this evaluation
 * (all groups and keys), so a rule over 50 workflows does not page on chance.
 */
import type { Outcome } from '../alerting/types.js';
import type { Rule } from '../rules/types.js';
import type { Measurement, Signal } from '../signals/index.js';
import { exceedsThreshold, holmAdjust } from '../stats/index.js';
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

export function verdicts(rule: Rule, signal: Signal, measurements: readonly Measurement[]): SeriesEvaluation[] {
  // Only series that can alert belong to the family: a group below min_runs is never tested, so it
  // must not weaken the correction for the others.
  const adjusted =
    rule.significance === null
      ? measurements.map(() => null)
      : holmAdjust(measurements.map((m) => (hasData(rule, m) ? (m.test?.pValue ?? null) : null)));
  return measurements.map((m, i) => {
    const pValue = adjusted[i] ?? null;
    let outcome: Outcome;
    if (!hasData(rule, m)) {
      outcome = { kind: 'nodata', reason: `too few runs (current ${m.currentRuns}, baseline ${m.baselineRuns}, min_runs ${rule.minRuns})` };
    } else {
      const significant = rule.significance === null || (pValue !== null && pValue < rule.significance);
      outcome = { kind: 'ok', active: conditionMet(rule, signal, m) && significant };
    }
    return { ...m, rule: rule.alert, signal: rule.signal, pValue, outcome };
  });
}
