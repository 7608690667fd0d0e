/**
 * The sums of several fetched windows as the sums of one (pure). Every aggregate column is a sum over
 * runs (store/aggregates.ts: counts, sums, sums of squares and cross-products), so the rows of
 * disjoint windows add up to the rows of their union. This is how a window fetched as days becomes
 * the window again, less a day left out for one group (engine/robust.ts), and how a confirm window
 * is measured against the rule's baseline without a query of its own.
 */
import type { Rule } from '../rules/types.js';
import { num } from './sql.js';
import type { SignalSums, SumsRow } from './sums.js';

/** Columns that say which row it is rather than what it sums. */
const KEY_COLUMNS = ['w', 'key_kind', 'key'] as const;

/** The group a row (or a measurement's labels) belongs to: its group_by values. */
export function groupKeyOf(rule: Pick<Rule, 'groupBy'>, row: Readonly<Record<string, unknown>>): string {
  // Length-prefixed, so no value can run into the next (a separator could occur inside a value).
  let key = '';
  for (const c of rule.groupBy) {
    const v = String(row[c] ?? '');
    key += `${v.length}:${v}`;
  }
  return key;
}

/**
 * `target(w, group)` names the window a fetched window's rows count in (null: left out); rows that
 * land in the same group, window and key are summed. Fetched rows are not modified.
 */
export function mergeWindows(rule: Pick<Rule, 'groupBy'>, sums: SignalSums, target: (w: number, group: string) => number | null): SignalSums {
  const identity = new Set<string>([...rule.groupBy, ...KEY_COLUMNS]);
  const fold = (rows: readonly SumsRow[]): SumsRow[] => {
    const out = new Map<string, SumsRow>();
    for (const r of rows) {
      const group = groupKeyOf(rule, r);
      const w = target(num(r.w), group);
      if (w === null) continue;
      const id = `${group}\u0000${w}\u0000${String(r.key_kind ?? '')}\u0000${String(r.key ?? '')}`;
      const acc = out.get(id);
      if (acc === undefined) {
        out.set(id, { ...r, w });
        continue;
      }
      for (const [col, v] of Object.entries(r)) if (!identity.has(col)) acc[col] = num(acc[col]) + num(v);
    }
    return [...out.values()];
  };
  return { totals: fold(sums.totals), keyed: fold(sums.keyed) };
}
