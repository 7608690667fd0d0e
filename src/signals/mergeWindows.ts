/**
 * The sums of several fetched windows as the sums of one (pure). Every aggregate column is a sum over
 * runs (store/aggregates.ts: counts, sums, sums of squares and cross-products), so the rows of
 * disjoint windows add up to the rows of their union. This is how a window fetched as days becomes
 * the window again, less a day left out for one group (engine/robust.ts), and how a confirm window
 * is measured against the rule's baseline without a query of its own.
 */
import type { Rule } from '../rules/types.js';
import { groupKeyOf, num } from './sql.js';
import type { SignalSums, SumsRow } from './sums.js';
import { dimensionLabel } from '../store/contract.js';

/** Columns that say which row it is rather than what it sums. */
const KEY_COLUMNS = ['w', 'key_kind', 'key'] as const;

/**
 * `target(w, group)` names the window a fetched window's rows count in (null: left out); rows that
 * land in the same group, window and key are summed. Fetched rows are not modified.
 */
export function mergeWindows(rule: Pick<Rule, 'groupBy'>, sums: SignalSums, target: (w: number, group: string) => number | null): SignalSums {
  const fold = (rows: readonly SumsRow[]): SumsRow[] => {
    if (rows.length === 0) return [];
    const c = columnsOf(rule, rows);
    // Per output row (a target window and an identity, slot = window * ids + identity): the first
    // fetched row it came from, its window, and its sums so far, in plain number arrays.
    const slots = new Map<number, number>();
    const first: number[] = [];
    const windows: number[] = [];
    const acc: number[][] = c.summed.map(() => []);
    for (let i = 0; i < rows.length; i++) {
      const w = target(c.w[i]!, c.groups[i]!);
      if (w === null) continue;
      const slot = w * c.ids + c.id[i]!;
      const o = slots.get(slot);
      if (o === undefined) {
        slots.set(slot, first.length);
        first.push(i);
        windows.push(w);
        for (let k = 0; k < acc.length; k++) acc[k]!.push(c.values[k]![i]!);
      } else {
        for (let k = 0; k < acc.length; k++) {
          const a = acc[k]!;
          a[o] = a[o]! + c.values[k]![i]!;
        }
      }
    }
    return first.map((i, o) => {
      const row: SumsRow = { ...rows[i]!, w: windows[o]! };
      for (let k = 0; k < acc.length; k++) row[c.summed[k]!] = acc[k]![o]!;
      return row;
    });
  };
  return { totals: fold(sums.totals), keyed: fold(sums.keyed) };
}

/**
 * Fetched rows as columns, computed once per array of rows: each row's window, group, identity (its
 * group and key, numbered) and summed values as numbers. One evaluation merges the same rows many
 * times (each window, each day left out in turn: robust.ts), and reading them as objects keyed by
 * strings was most of a cycle's time in JavaScript.
 */
interface Columns {
  /** The summed columns: every column of the rows but the group's, `w`, `key_kind` and `key`. */
  readonly summed: readonly string[];
  /** Per summed column, per row. */
  readonly values: readonly Float64Array[];
  readonly w: Int32Array;
  readonly groups: readonly string[];
  /** Per row, its identity's number in 0..ids-1. */
  readonly id: Int32Array;
  readonly ids: number;
}

const columns = new WeakMap<readonly SumsRow[], Columns>();

function columnsOf(rule: Pick<Rule, 'groupBy'>, rows: readonly SumsRow[]): Columns {
  const cached = columns.get(rows);
  if (cached !== undefined) return cached;
  const identity = new Set<string>([...rule.groupBy.map(dimensionLabel), ...KEY_COLUMNS]);
  // Every row of one query has the same columns: the summed ones are listed once, not per row.
  const summed = Object.keys(rows[0] ?? {}).filter((k) => !identity.has(k));
  const { groups, keys } = identitiesOf(rule, rows);
  const numbers = new Map<string, number>();
  const id = new Int32Array(rows.length);
  const w = new Int32Array(rows.length);
  const values = summed.map(() => new Float64Array(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    let n = numbers.get(keys[i]!);
    if (n === undefined) numbers.set(keys[i]!, (n = numbers.size));
    id[i] = n;
    w[i] = num(r.w);
    for (let k = 0; k < summed.length; k++) values[k]![i] = num(r[summed[k]!]);
  }
  const c = { summed, values, w, groups, id, ids: Math.max(1, numbers.size) };
  columns.set(rows, c);
  return c;
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

/** How many groups the rows hold (their totals rows name every group there is). */
export function groupCount(rule: Pick<Rule, 'groupBy'>, sums: SignalSums): number {
  return new Set(identitiesOf(rule, sums.totals).groups).size;
}

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
