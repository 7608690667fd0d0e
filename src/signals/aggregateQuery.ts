/**
 * Every signal's sums (store/aggregates.ts) for a rule's windows, per group and window: sums over
 * the runs of each window. Read from the aggregate tables where
 * the rule's columns are among their dimensions (whole hours, then whole 5-minute buckets) and from
 * agent_runs for the rest; a rule the aggregates cannot answer, or a store without them, reads
 * agent_runs for the whole windows through the same per-run expressions. Either way the result has
 * the same columns and, to floating-point summation order, the same numbers.
 *
 * The SQL depends only on the rule's `where` and `group_by`, its windows and the source, never on
 * its signal or options: the rules of a group with the same filter and windows ask for one identical
 * query, which the engine runs once per evaluation (shared work).
 */
import type { Rule } from '../rules/types.js';
import { aggregateTableName, mergedMeasuresSql, rawMeasuresSql, runRowsSql, TIERS } from '../store/aggregates.js';
import type { DimensionColumn } from '../store/contract.js';
import { qualified } from '../store/schema.js';
import { coverWindows, mergedRanges, type Interval } from './cover.js';
import { groupColumns, whereConditions, type BuiltQuery } from './sql.js';
import type { WindowBounds } from './types.js';

/** The aggregate tables a daemon found ready in its store (null: read agent_runs only). */
export interface AggregateSource {
  readonly database: string;
  /** agent_runs' name: the aggregate tables are named after it. */
  readonly agentRuns: string;
  readonly dimensions: readonly DimensionColumn[];
}

/** Whether the aggregates can answer a rule: every column it filters or groups on is a dimension of theirs. */
export function aggregatesCover(rule: Pick<Rule, 'where' | 'groupBy'>, source: AggregateSource | null | undefined): source is AggregateSource {
  if (!source) return false;
  const dims = new Set<string>(source.dimensions);
  return [...Object.keys(rule.where), ...rule.groupBy].every((c) => dims.has(c));
}

/** Fingerprints beyond the top ones per group and window are pooled, so the rows stay bounded. */
export const TOP_FINGERPRINTS = 100;

/**
 * A row's window from the pieces of a part: multiIf when the pieces are disjoint (the usual case: a
 * row is in at most one), arrayJoin when windows overlap (a row counts in each of its windows).
 */
function windowOf(t: string, pieces: readonly Interval[], params: Record<string, unknown>, p: string, unit: 'ms' | 's'): string {
  const scale = unit === 'ms' ? 1 : 1000;
  const sorted = [...pieces].sort((a, b) => a.startMs - b.startMs);
  const disjoint = sorted.every((x, i) => i === 0 || x.startMs >= sorted[i - 1]!.endMs);
  const type = unit === 'ms' ? 'Int64' : 'UInt32';
  if (disjoint) {
    const arms = sorted.map((x, i) => {
      params[`${p}s${i}`] = x.startMs / scale;
      params[`${p}e${i}`] = x.endMs / scale;
      return `${t} >= {${p}s${i}:${type}} AND ${t} < {${p}e${i}:${type}}, ${x.window}`;
    });
    return arms.length === 1 ? String(sorted[0]!.window) : `multiIf(${arms.join(', ')}, -1)`;
  }
  params[`${p}s`] = sorted.map((x) => x.startMs / scale);
  params[`${p}e`] = sorted.map((x) => x.endMs / scale);
  params[`${p}w`] = sorted.map((x) => x.window);
  return `arrayJoin(arrayMap(j -> {${p}w:Array(Int32)}[j], arrayFilter(j -> ${t} >= {${p}s:Array(${type})}[j] AND ${t} < {${p}e:Array(${type})}[j], arrayEnumerate({${p}s:Array(${type})}))))`;
}

/** `(col >= a AND col < b) OR ...` over the merged ranges of the pieces, bound as parameters. */
function rangeCondition(col: string, pieces: readonly Interval[], params: Record<string, unknown>, p: string, bound: (name: string) => string, scale: number): string {
  const ranges = mergedRanges(pieces).map((r, i) => {
    params[`${p}lo${i}`] = r.startMs / scale;
    params[`${p}hi${i}`] = r.endMs / scale;
    return `(${col} >= ${bound(`${p}lo${i}`)} AND ${col} < ${bound(`${p}hi${i}`)})`;
  });
  return ranges.length === 1 ? ranges[0]! : `(${ranges.join(' OR ')})`;
}

/**
 * Every signal's sums for a rule's windows, one row per group and window (see store/aggregates.ts for
 * the columns; `top_fingerprints` holds the top TOP_FINGERPRINTS by runs, ties broken by name, and
 * `fingerprint_count` how many there were).
 */
export function runAggregatesQuery(rule: Pick<Rule, 'where' | 'groupBy'>, table: string, windows: readonly WindowBounds[], source: AggregateSource | null | undefined): BuiltQuery {
  const params: Record<string, unknown> = { top: TOP_FINGERPRINTS };
  const groups = groupColumns(rule);
  const where = whereConditions(rule, params);
  const outKeys = [...groups, 'w'];
  const covered = aggregatesCover(rule, source);
  const cover = coverWindows(windows, covered ? TIERS.map((t) => t.ms) : []);
  const parts: string[] = [];

  cover.tiers.forEach((pieces, i) => {
    if (pieces.length === 0 || !source) return;
    const tier = TIERS[i]!;
    const p = `t${tier.name}_`;
    const t = 'toInt64(toUnixTimestamp(bucket))';
    const conds = [rangeCondition('bucket', pieces, params, p, (n) => `toDateTime({${n}:UInt32}, 'UTC')`, 1000), ...where];
    parts.push(`SELECT ${[...outKeys, ...mergedMeasuresSql()].join(', ')}
FROM (SELECT *, ${windowOf(t, pieces, params, p, 's')} AS w FROM ${qualified(source.database, aggregateTableName(source, tier))}
      WHERE ${conds.join(' AND ')})
GROUP BY ${outKeys.join(', ')}`);
  });

  if (cover.raw.length > 0) {
    const p = 'raw_';
    const t = 'toUnixTimestamp64Milli(timestamp)';
    const conds = [rangeCondition('timestamp', cover.raw, params, p, (n) => `fromUnixTimestamp64Milli({${n}:Int64})`, 1), ...where];
    const rows = runRowsSql(table, [...groups, `${windowOf(t, cover.raw, params, p, 'ms')} AS w`], conds.join(' AND '));
    parts.push(`SELECT ${[...outKeys, ...rawMeasuresSql()].join(', ')}
FROM (${rows})
GROUP BY ${outKeys.join(', ')}`);
  }

  const merged =
    parts.length === 1
      ? parts[0]!
      : `SELECT ${[...outKeys, ...mergedMeasuresSql()].join(', ')}
FROM (${parts.join('\nUNION ALL\n')})
GROUP BY ${outKeys.join(', ')}`;
  // The fingerprints' top N by runs (ties by name, so both read paths keep the same ones).
  const sql = `SELECT * EXCEPT (runs_by_fingerprint), length(runs_by_fingerprint.1) AS fingerprint_count,
  arraySlice(arraySort(x -> (-toInt64(x.2), x.1), arrayZip(runs_by_fingerprint.1, runs_by_fingerprint.2)), 1, {top:UInt32}) AS top_fingerprints
FROM (${merged})`;
  return { sql, params };
}

/** sumMap's (keys, values) from a JSON row: a 2-element array (or an object with two fields). */
export function keyedSums(v: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const [keys, vals] = (Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [[], []]) as [unknown[], unknown[]];
  (keys ?? []).forEach((k, i) => out.set(String(k), Number(vals?.[i] ?? 0)));
  return out;
}

/** The top fingerprints column: [[fingerprint, runs], ...]. */
export function fingerprintRuns(v: unknown): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of (Array.isArray(v) ? v : []) as unknown[]) {
    const [k, n] = (Array.isArray(e) ? e : Object.values(e as object)) as [unknown, unknown];
    out.set(String(k), Number(n));
  }
  return out;
}
