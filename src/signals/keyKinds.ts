/**
 * Which key kinds of the keyed aggregates a rule's signal reads (pure). A keyed query asks only for
 * the kinds the rules sharing it read: the others (the duration histogram is most of the rows) would
 * be read, merged and handed over for nothing. Signals that read the totals alone need no keyed query.
 */
import type { Rule } from '../rules/types.js';
import { KEY_KINDS, type KeyKind } from '../store/aggregates.js';
import type { SignalSums, SumsRow } from './types.js';

export function keyKindsOf(rule: Pick<Rule, 'signal' | 'options'>): readonly KeyKind[] {
  switch (rule.signal) {
    case 'tool_calls_per_run':
      return ['tool', 'pair'];
    case 'policy_activation_rate':
      return ['denied_rule'];
    case 'output_schema_shift':
      return ['fingerprint'];
    case 'duration':
      // Quantiles come from the histogram (for a mean rule too: its p50 and p95 are shown beside it).
      return ['duration'];
    case 'error_rate':
      return ['outcome'];
    case 'tool_error_rate':
      return ['tool', 'tool_error'];
    case 'score':
      return ['score'];
    case 'metric':
      return ['metric'];
    case 'cost_per_success':
    case 'tokens_per_run':
    case 'runs':
    case 'cost':
      return [];
  }
}

/** The kinds of several rules, in KEY_KINDS' order (the same set always gives the same query). */
export function unionOfKeyKinds(rules: readonly Pick<Rule, 'signal' | 'options'>[]): readonly KeyKind[] {
  const kinds = new Set(rules.flatMap(keyKindsOf));
  return KEY_KINDS.filter((k) => kinds.has(k));
}

/**
 * The key kinds a rule's keyed query asks for, among `rules` (a group's): the union over the rules
 * with its filter and grouping, so they still share one query; a rule not among them, its own kinds.
 */
export function keyKindsAmong(rules: readonly Rule[]): (rule: Rule) => readonly KeyKind[] {
  const byFilter = new Map<string, Rule[]>();
  for (const r of rules) {
    // Rules that share keyed queries (asking at the same time for the same windows): one filter and grouping.
    const key = JSON.stringify([r.where, r.groupBy]);
    byFilter.set(key, [...(byFilter.get(key) ?? []), r]);
  }
  const kinds = new Map<Rule, readonly KeyKind[]>();
  for (const same of byFilter.values()) {
    const union = unionOfKeyKinds(same);
    for (const r of same) kinds.set(r, union);
  }
  return (rule) => kinds.get(rule) ?? keyKindsOf(rule);
}

const byKinds = new WeakMap<readonly SumsRow[], Map<string, readonly SumsRow[]>>();

/**
 * The sums with only the keyed rows of `kinds` (the totals as they are). Rules sharing a query get
 * the kinds of all of them (keyKindsAmong), but each signal reads its own: a day-by-day trim merges
 * the keyed rows once per day, and for a policy rule beside a duration rule that was the duration
 * histogram, merged fourteen times for nothing. The same rows and kinds give the same array, so the
 * rules reading them still share its merges (mergeWindows.sharedMerge keys by the arrays).
 */
export function onlyKeyKinds(sums: SignalSums, kinds: readonly KeyKind[]): SignalSums {
  let cache = byKinds.get(sums.keyed);
  if (cache === undefined) byKinds.set(sums.keyed, (cache = new Map()));
  const spec = kinds.join(',');
  let keyed = cache.get(spec);
  if (keyed === undefined) {
    const keep = new Set<unknown>(kinds);
    const filtered = sums.keyed.filter((r) => keep.has(r.key_kind));
    // Nothing left out: the very array, so its merges stay shared with rules reading all of it.
    cache.set(spec, (keyed = filtered.length === sums.keyed.length ? sums.keyed : filtered));
  }
  return keyed === sums.keyed ? sums : { totals: sums.totals, keyed };
}
