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
import { dimensionLabel } from '../store/contract.js';

/** Columns that say which row it is rather than what it sums. */
const KEY_COLUMNS = ['w', 'key_kind', 'key'] as const;

/** The group a row (or a measurement's labels) belongs to: its group_by values. */
export function groupKeyOf(rule: Pick<Rule, 'groupBy'>, row: Readonly<Record<string, unknown>>): string {
  // Length-prefixed, so no value can run into the next (a separator could occur inside a value).
  let key = '';
  for (const c of rule.groupBy) {
    const v = String(row[dimensionLabel(c)] ?? '');
    key += `${v.length}:${v}`;
  }
  return key;
}

/**
 * `target(w, group)` names the window a fetched window's rows count in (null: left out); rows that
 * land in the same group, window and key are summed. Fetched rows are not modified.
 */
export function mergeWindows(rule: Pick<Rule, 'groupBy'>, sums: SignalSums, target: (w: number, group: string) => number | null): SignalSums {
  const identity = new Set<string>([...rule.groupBy.map(dimensionLabel), ...KEY_COLUMNS]);
  const fold = (rows: readonly SumsRow[]): SumsRow[] => {
    if (rows.length === 0) return [];
    // Every row of one query has the same columns: the summed ones are listed once, not per row.
    const summed = Object.keys(rows[0]!).filter((c) => !identity.has(c));
    const out = new Map<string, SumsRow>();
    const ids = identitiesOf(rule, rows);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const w = target(num(r.w), ids.groups[i]!);
      if (w === null) continue;
      const key = `${w}\u0000${ids.keys[i]!}`;
      const acc = out.get(key);
      if (acc === undefined) {
        out.set(key, { ...r, w });
        continue;
      }
      for (const c of summed) acc[c] = num(acc[c]) + num(r[c]);
    }
    return [...out.values()];
  };
  return { totals: fold(sums.totals), keyed: fold(sums.keyed) };
}

/**
 * mergeWindows for a target that does not depend on the group, shared by every rule that reads the
 * same fetched rows (the rules of a group with one filter read one query pair): `spec` names the
 * target. Held as long as the rows are.
 */
export function sharedMerge(rule: Pick<Rule, 'groupBy'>, sums: SignalSums, spec: string, target: (w: number) => number | null): SignalSums {
  let byKeyed = shared.get(sums.totals);
  if (byKeyed === undefined) shared.set(sums.totals, (byKeyed = new WeakMap()));
  let bySpec = byKeyed.get(sums.keyed);
  if (bySpec === undefined) byKeyed.set(sums.keyed, (bySpec = new Map()));
  let merged = bySpec.get(spec);
  if (merged === undefined) bySpec.set(spec, (merged = mergeWindows(rule, sums, target)));
  return merged;
}

const shared = new WeakMap<readonly SumsRow[], WeakMap<readonly SumsRow[], Map<string, SignalSums>>>();

/** The rows of some groups only. */
export function onlyGroups(rule: Pick<Rule, 'groupBy'>, sums: SignalSums, keep: (group: string) => boolean): SignalSums {
  const only = (rows: readonly SumsRow[]) => {
    const { groups } = identitiesOf(rule, rows);
    return rows.filter((_, i) => keep(groups[i]!));
  };
  return { totals: only(sums.totals), keyed: only(sums.keyed) };
}

/**
 * Each row's group, and its group and key together, computed once per array of rows (the rows of one
 * query all have one group_by, the query's): one evaluation merges the same fetched rows many times
 * (each window, each day left out in turn), and building these strings was most of a backtest's time.
 */
interface Identities {
  readonly groups: readonly string[];
  readonly keys: readonly string[];
}

const identities = new WeakMap<readonly SumsRow[], Identities>();

function identitiesOf(rule: Pick<Rule, 'groupBy'>, rows: readonly SumsRow[]): Identities {
  let ids = identities.get(rows);
  if (ids === undefined) {
    const groups = rows.map((r) => groupKeyOf(rule, r));
    const keys = rows.map((r, i) => `${groups[i]!}\u0000${String(r.key_kind ?? '')}\u0000${String(r.key ?? '')}`);
    identities.set(rows, (ids = { groups, keys }));
  }
  return ids;
}
