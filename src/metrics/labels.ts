/**
 * The fixed label set of every per-series metric. It is fixed (every dimension column, empty when the
 * rule does not group by it) rather than taken from the rule, so one metric name never carries two
 * label sets and PromQL can aggregate across rules.
 */
import type { Rule } from '../rules/types.js';
import { DIMENSION_COLUMNS, type DimensionColumn } from '../store/contract.js';

export const SERIES_LABEL_NAMES = ['rule', 'signal', 'key', ...DIMENSION_COLUMNS, 'severity'] as const;
export type SeriesLabelName = (typeof SERIES_LABEL_NAMES)[number];

/** Every label present: a missing one would create a second series with a different label set. */
export type SeriesLabels = Readonly<Record<SeriesLabelName, string>>;

/** The part of an alert series' identity that comes from the rule itself. */
export interface RuleLabels {
  readonly rule: string;
  readonly signal: string;
  readonly severity: string;
}

export function ruleLabels(rule: Pick<Rule, 'alert' | 'signal' | 'labels'>): RuleLabels {
  return { rule: rule.alert, signal: rule.signal, severity: rule.labels.severity ?? '' };
}

export function seriesLabels(base: RuleLabels, groupLabels: Readonly<Record<string, string>>, key: string): SeriesLabels {
  const dims = {} as Record<DimensionColumn, string>;
  for (const c of DIMENSION_COLUMNS) dims[c] = groupLabels[c] ?? '';
  return { rule: base.rule, signal: base.signal, key, ...dims, severity: base.severity };
}
