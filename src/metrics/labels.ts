/**
 * The fixed label set of every per-series metric. It is fixed (every dimension column, empty when the
 * rule does not group by it) rather than taken from the rule, so one metric name never carries two
 * label sets and PromQL can aggregate across rules.
 */
import { createHash } from 'node:crypto';
import type { Rule } from '../rules/types.js';
import { DIMENSION_COLUMNS, type DimensionColumn } from '../store/contract.js';

export const SERIES_LABEL_NAMES = ['rule', 'signal', 'key', ...DIMENSION_COLUMNS, 'attributes', 'severity'] as const;

/**
 * A series' custom dimensions (group_by `attributes.KEY`, alert labels `attributes_KEY`) in one
 * label, `attributes="customer_tier=gold,region=eu"` (keys sorted, as in their alert labels minus the
 * `attributes_` prefix): the label set stays fixed whatever a rule groups by, and PromQL selects a
 * value with `attributes=~"(.*,)?customer_tier=gold(,.*)?"`. Empty for a series without any.
 */
export function attributesLabelValue(groupLabels: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const k of Object.keys(groupLabels).sort()) if (k.startsWith(ATTRIBUTE_LABEL_PREFIX)) parts.push(`${k.slice(ATTRIBUTE_LABEL_PREFIX.length)}=${groupLabels[k]}`);
  return parts.join(',');
}
const ATTRIBUTE_LABEL_PREFIX = 'attributes_';
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

/**
 * Longest label value exported, in characters (code points). Values come from the data (a workflow id,
 * a tool name): a runaway one must not become a 100,000-character line in every scrape.
 */
export const MAX_LABEL_VALUE_CHARS = 128;
const HASH_CHARS = 8;

/**
 * A label value of at most MAX_LABEL_VALUE_CHARS: longer ones keep their first 119 characters, then
 * `~` and 8 hex digits of the SHA-256 of the whole value, so two long values that share a prefix stay
 * two series. Never splits a surrogate pair.
 */
export function boundLabelValue(value: string): string {
  // Cheap exit: UTF-16 length is never below the number of code points.
  if (value.length <= MAX_LABEL_VALUE_CHARS) return value;
  const chars = Array.from(value);
  if (chars.length <= MAX_LABEL_VALUE_CHARS) return value;
  const hash = createHash('sha256').update(value, 'utf8').digest('hex').slice(0, HASH_CHARS);
  return `${chars.slice(0, MAX_LABEL_VALUE_CHARS - HASH_CHARS - 1).join('')}~${hash}`;
}

export function seriesLabels(base: RuleLabels, groupLabels: Readonly<Record<string, string>>, key: string): SeriesLabels {
  const dims = {} as Record<DimensionColumn, string>;
  for (const c of DIMENSION_COLUMNS) dims[c] = boundLabelValue(groupLabels[c] ?? '');
  return {
    rule: boundLabelValue(base.rule),
    signal: base.signal,
    key: boundLabelValue(key),
    ...dims,
    attributes: boundLabelValue(attributesLabelValue(groupLabels)),
    severity: boundLabelValue(base.severity),
  };
}
