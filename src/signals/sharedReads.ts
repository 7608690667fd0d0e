/**
 * Reads shared between rule groups evaluated at the same time (pure planning; sums.ts runs them).
 * The shipped rules come in two groups that read the same filter every five minutes: the 7-day
 * rules fourteen day windows, the fast rules four one-day windows, two of them the same days. Each
 * group asking for its own windows costs two more queries per tick and re-reads those days; one
 * query over the union of the windows, handed to both groups, costs about a third less at 100M runs
 * (docs/benchmarks.md). So, like Prometheus' rule manager, which evaluates a group's rules against
 * one querier, agentdrift plans a tick's reads over every group due at that time: per filter and
 * grouping, one totals and one keyed query for every window any of those groups' rules reads, with
 * every key kind they read; each rule then gets the rows of its own windows, numbered as its own
 * query would have numbered them.
 */
import type { Rule } from '../rules/types.js';
import type { KeyKind } from '../store/aggregates.js';
import { keyKindsOf, unionOfKeyKinds } from './keyKinds.js';
import { num } from './sql.js';
import type { SumsRow, WindowBounds } from './types.js';
import { evaluationWindows } from './windows.js';

/**
 * The groups evaluated at the same time as a reader's scope (its own among them): a read made at
 * `at` is planned over all of their windows with the same filter and shared with their readers.
 */
export interface ReadPeers {
  /** The time every one of these groups evaluates at: their common tick. */
  readonly at: number;
  readonly groups: readonly PeerGroup[];
}

export interface PeerGroup {
  readonly rules: readonly Rule[];
  /**
   * Whether the group is still to read at `at` (false: it evaluated `at` already, as a group
   * reloaded alone does when its start run lands on its peers' last tick). A shared read is let go
   * once every group due has had it.
   */
  readonly due: boolean;
}

/** One shared query's plan: the union of the due groups' windows (and key kinds) for one filter. */
export interface SharedPlan {
  readonly windows: readonly WindowBounds[];
  readonly kinds: readonly KeyKind[];
  /** Due groups that will read it: it is let go once each has. */
  readonly expected: number;
}

export const filterOf = (rule: Pick<Rule, 'where' | 'groupBy'>): string => JSON.stringify([rule.where, rule.groupBy]);

/**
 * A union past this many windows is not shared: one query over them costs more than their groups
 * save, and every group would wait for all of it before its first rule (rules each with a window of
 * its own: a thousand of them made a query no group's timeout let finish). The shipped rules' is 16.
 */
export const MAX_SHARED_WINDOWS = 64;
const boundsKey = (w: Pick<WindowBounds, 'startMs' | 'endMs'>): string => `${w.startMs}:${w.endMs}`;

/**
 * The totals (keyed: false) or keyed query that the due peers' rules with `filter` read at the
 * peers' time: every window of theirs, each once, in the peers' order (groups, rules, each rule's
 * windows), so the first group's rules get their rows without renumbering. The keyed query is for
 * the rules that read keyed rows, with every kind they read. Null when none of them reads it.
 */
export function planShared(peers: ReadPeers, filter: string, keyed: boolean): SharedPlan | null {
  const seen = new Set<string>();
  const windows: WindowBounds[] = [];
  const readers: Rule[] = [];
  let expected = 0;
  for (const g of peers.groups) {
    if (!g.due) continue;
    const same = g.rules.filter((r) => filterOf(r) === filter && (!keyed || keyKindsOf(r).length > 0));
    if (same.length === 0) continue;
    expected++;
    readers.push(...same);
    for (const r of same) {
      for (const w of evaluationWindows(r, peers.at).fetch) {
        const k = boundsKey(w);
        if (seen.has(k)) continue;
        if (windows.length === MAX_SHARED_WINDOWS) return null;
        seen.add(k);
        windows.push({ index: windows.length, startMs: w.startMs, endMs: w.endMs });
      }
    }
  }
  return expected === 0 ? null : { windows, kinds: keyed ? unionOfKeyKinds(readers) : [], expected };
}

/**
 * Per window of a shared query, the index of the rule's own window it is (-1: not one of the rule's);
 * null when one of the rule's windows is not among them (the query was planned without its group).
 */
export function toOwn(shared: readonly WindowBounds[], own: readonly WindowBounds[]): number[] | null {
  const index = new Map(shared.map((w, i) => [boundsKey(w), i] as const));
  const out = shared.map(() => -1);
  for (const w of own) {
    const u = index.get(boundsKey(w));
    if (u === undefined || out[u] !== -1) return null;
    out[u] = w.index;
  }
  return out;
}

const renumbered = new WeakMap<readonly SumsRow[], Map<string, readonly SumsRow[]>>();

/**
 * The rows of a union query as the rule's own query would have returned them: rows of the rule's
 * windows only, `w` its own window index. The same rows and mapping give the same array (the rules
 * reading it share its merges: mergeWindows keys by the array); where the mapping changes nothing,
 * the very rows.
 */
export function ownRows(rows: readonly SumsRow[], toOwn: readonly number[]): readonly SumsRow[] {
  if (toOwn.every((o, u) => o === u)) return rows;
  let byMapping = renumbered.get(rows);
  if (byMapping === undefined) renumbered.set(rows, (byMapping = new Map()));
  const key = toOwn.join(',');
  let out = byMapping.get(key);
  if (out === undefined) {
    const kept: SumsRow[] = [];
    for (const r of rows) {
      const u = num(r.w);
      const o = toOwn[u] ?? -1;
      if (o === -1) continue;
      kept.push(o === u ? r : { ...r, w: o });
    }
    byMapping.set(key, (out = kept));
  }
  return out;
}
