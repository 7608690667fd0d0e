/**
 * Every signal's sums (store/aggregates.ts) for a rule's windows, per group and window: sums over
 * the runs of each window. Read from the aggregate tables where
 * the rule's columns are among their dimensions (whole hours, then whole 5-minute buckets) and from
 * agent_runs for the rest; a rule the aggregates cannot answer, or a store without them, reads
 * agent_runs for the whole windows through the same per-run expressions. Either way the result has
 * the same columns and, to floating-point summation order, the same numbers.
 *
 * The SQL depends only on the rule's `where` and `group_by`, its windows and the source, never on
 * its signal or options: the rules of a group with the same filter and windows ask for identical
 * queries (totals and keyed), which the engine runs once per evaluation (shared work).
 */
import type { Rule } from '../rules/types.js';
import { AGGREGATE_SPECS, aggregateTableName, mergedMeasuresSql, runsAggregateSql, TIERS, type AggregateKind, type KeyKind } from '../store/aggregates.js';
import type { DimensionColumn } from '../store/contract.js';
import { qualified } from '../store/schema.js';
import { coverWindows, mergedRanges, type Interval } from './cover.js';
import { groupColumns, groupSelects, whereConditions, type BuiltQuery } from './sql.js';
import type { WindowBounds } from './types.js';
import type { AggregateSource } from '../store/aggregates.js';

export type { AggregateSource };

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
  // A long multiIf (a batch of evaluation times) costs more to plan than arrays cost to scan.
  if (disjoint && sorted.length <= MANY_PIECES) {
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

/**
 * Past MANY_PIECES pieces, rows find their windows through a join on their bucket instead: the
 * pieces, one row per bucket they touch (`pb`, with the piece's bounds `ps`/`pe` and window `w`), are
 * the small right side of a hash join, so each row costs one lookup however many windows the batch
 * has (the arrays above cost a scan of every piece per row: at 100M runs, 192 raw edge pieces made
 * that scan most of a backtest). `exact`: pieces that do not cover whole buckets (raw runs) also
 * check the row's time against the piece. Null when the pieces touch too many buckets to list.
 */
function bucketJoin(
  pieces: readonly Interval[],
  params: Record<string, unknown>,
  p: string,
  bucketMs: number,
  unit: 'ms' | 's',
  exact: boolean,
): { readonly join: string; readonly filter: string } | null {
  const scale = unit === 'ms' ? 1 : 1000;
  const type = unit === 'ms' ? 'Int64' : 'UInt32';
  const pb: number[] = [];
  const ps: number[] = [];
  const pe: number[] = [];
  const pw: number[] = [];
  for (const x of pieces) {
    for (const b of bucketStarts(x, bucketMs)) {
      if (pb.length >= MAX_LISTED_BUCKETS) return null;
      pb.push(b / 1000);
      ps.push(x.startMs / scale);
      pe.push(x.endMs / scale);
      pw.push(x.window);
    }
  }
  params[`${p}jb`] = pb;
  params[`${p}jw`] = pw;
  const arrays = [`{${p}jb:Array(UInt32)}`, `{${p}jw:Array(Int32)}`];
  const cols = [`x.1 AS ${p}pb`, 'x.2 AS w'];
  let filter = '';
  if (exact) {
    params[`${p}js`] = ps;
    params[`${p}je`] = pe;
    arrays.push(`{${p}js:Array(${type})}`, `{${p}je:Array(${type})}`);
    cols.push(`x.3 AS ${p}ps`, `x.4 AS ${p}pe`);
    // In WHERE, not ON: ClickHouse's hash join takes only equalities between the two sides.
    filter = `${p}t >= ${p}ps AND ${p}t < ${p}pe`;
  }
  return { join: `INNER JOIN (SELECT ${cols.join(', ')} FROM (SELECT arrayJoin(arrayZip(${arrays.join(', ')})) AS x)) AS ${p}q ON ${p}b = ${p}pb`, filter };
}

/** The start of every bucket of `bucketMs` that the piece touches. */
function* bucketStarts(x: Interval, bucketMs: number): Generator<number> {
  for (let b = Math.floor(x.startMs / bucketMs) * bucketMs; b < x.endMs; b += bucketMs) yield b;
}

/**
 * Buckets a query lists in its parameters (a join's pieces, a set; each a few bytes): past this, the
 * arrays and OR-ed ranges are used instead.
 */
const MAX_LISTED_BUCKETS = 100_000;

/**
 * Past this many pieces or ranges (a batch of evaluation times: signals/batch.ts) a query lists
 * buckets in a set instead of OR-ing ranges, and rows find their windows by a join on their bucket
 * (bucketJoin): planning a few hundred OR-ed ranges costs ClickHouse far more than reading the rows
 * does. A single evaluation stays under it.
 */
const MANY_PIECES = 8;

/**
 * The rows of the pieces: `(col >= a AND col < b) OR ...` over their merged ranges, bound as
 * parameters; or, for many ranges whose pieces each lie in one bucket of `setBucketMs`, the span of
 * all of them and membership of the row's bucket in the set of those buckets (`bucketOf`).
 */
function rangeCondition(
  col: string,
  pieces: readonly Interval[],
  params: Record<string, unknown>,
  p: string,
  bound: (name: string) => string,
  scale: number,
  set?: { readonly bucketMs: number; readonly bucketOf: string; readonly hint?: boolean },
): string {
  const merged = mergedRanges(pieces);
  if (set && merged.length > MANY_PIECES) {
    const buckets = new Set<number>();
    let fits = true;
    // Whole-bucket pieces (a tier's) list every bucket; raw edge pieces lie inside one bucket.
    for (const x of pieces) {
      for (const b of bucketStarts(x, set.bucketMs)) {
        buckets.add(b / 1000);
        if (buckets.size > MAX_LISTED_BUCKETS) {
          fits = false;
          break;
        }
      }
      if (!fits) break;
    }
    if (fits) {
      params[`${p}lo`] = merged[0]!.startMs / scale;
      params[`${p}hi`] = merged[merged.length - 1]!.endMs / scale;
      params[`${p}set`] = [...buckets].sort((a, b) => a - b);
      // The ranges again, for agent_runs' primary key only (indexHint is not evaluated per row): the
      // span alone reads every granule between the first and the last edge. Not on the aggregate
      // tables, which are small: there planning the hint costs more than it saves.
      const hint = set.hint === true && merged.length <= MAX_HINT_RANGES ? ` AND indexHint(${orOfRanges(col, merged, params, `${p}h`, bound, scale)})` : '';
      return `(${col} >= ${bound(`${p}lo`)} AND ${col} < ${bound(`${p}hi`)}${hint} AND ${set.bucketOf} IN (SELECT arrayJoin({${p}set:Array(UInt32)})))`;
    }
  }
  return orOfRanges(col, merged, params, p, bound, scale);
}

/** `(col >= a AND col < b) OR ...`, the bounds bound as parameters `<p>lo<i>`, `<p>hi<i>`. */
function orOfRanges(col: string, merged: readonly { startMs: number; endMs: number }[], params: Record<string, unknown>, p: string, bound: (name: string) => string, scale: number): string {
  const ranges = merged.map((r, i) => {
    params[`${p}lo${i}`] = r.startMs / scale;
    params[`${p}hi${i}`] = r.endMs / scale;
    return `(${col} >= ${bound(`${p}lo${i}`)} AND ${col} < ${bound(`${p}hi${i}`)})`;
  });
  return ranges.length === 1 ? ranges[0]! : `(${ranges.join(' OR ')})`;
}

/** Ranges an index hint lists at most (a batch of 24 times has up to 192 raw edges). */
const MAX_HINT_RANGES = 1_000;
const HOUR_MS = 3_600_000;

/**
 * One kind of aggregate (store/aggregates.ts) for a rule's windows: `totals`, one row per group and
 * window; `keyed`, one row per group, window, key kind and key, the fingerprints cut to the top
 * TOP_FINGERPRINTS per group and window by runs (ties by name, so both read paths keep the same ones).
 */
export function aggregateQuery(
  kind: AggregateKind,
  rule: Pick<Rule, 'where' | 'groupBy'>,
  table: string,
  windows: readonly WindowBounds[],
  source: AggregateSource | null | undefined,
  keyKinds?: readonly KeyKind[],
): BuiltQuery {
  const spec = AGGREGATE_SPECS[kind];
  const params: Record<string, unknown> = {};
  // Keyed rows of the kinds the rules sharing this query read (keyKinds.ts); all kinds when unset.
  const kinds = kind === 'keyed' ? keyKinds : undefined;
  const kindFilter = kinds === undefined ? [] : ['key_kind IN {key_kinds:Array(String)}'];
  if (kinds !== undefined) params.key_kinds = [...kinds];
  const groups = groupColumns(rule);
  // The same bound values either way: over aggregate rows a dimension is a column, over runs an attribute comes from the map.
  const where = whereConditions(rule, params, 'aggregates');
  const whereRuns = whereConditions(rule, params, 'runs');
  const keyNames = spec.keys.map((k) => k.name);
  const outKeys = [...groups, 'w', ...keyNames];
  const covered = aggregatesCover(rule, source);
  const cover = coverWindows(windows, covered ? TIERS.map((t) => t.ms) : []);
  const parts: string[] = [];

  cover.tiers.forEach((pieces, i) => {
    if (pieces.length === 0 || !source) return;
    const tier = TIERS[i]!;
    const p = `t${tier.name}_`;
    const t = 'toInt64(toUnixTimestamp(bucket))';
    const conds = [rangeCondition('bucket', pieces, params, p, (n) => `toDateTime({${n}:UInt32}, 'UTC')`, 1000, { bucketMs: tier.ms, bucketOf: 'toUnixTimestamp(bucket)' }), ...where, ...kindFilter];
    const from = qualified(source.database, aggregateTableName(source, tier, kind));
    const joined = pieces.length > MANY_PIECES ? bucketJoin(pieces, params, p, tier.ms, 's', false) : null;
    const rows = joined
      ? `(SELECT *, toUnixTimestamp(bucket) AS ${p}b FROM ${from} WHERE ${conds.join(' AND ')}) AS ${p}r\n${joined.join}`
      : `(SELECT *, ${windowOf(t, pieces, params, p, 's')} AS w FROM ${from}
      WHERE ${conds.join(' AND ')})`;
    parts.push(`SELECT ${[...outKeys, ...mergedMeasuresSql(kind)].join(', ')}
FROM ${rows}
GROUP BY ${outKeys.join(', ')}`);
  });

  if (cover.raw.length > 0) {
    const p = 'raw_';
    const t = 'toUnixTimestamp64Milli(timestamp)';
    // With tiers, raw pieces are the edges under the finest bucket: each lies in one 5-minute bucket.
    const finest = covered ? TIERS[TIERS.length - 1]!.ms : undefined;
    // A run's bucket as epoch seconds (UTC buckets start on multiples of their length).
    const runBucket = (ms: number) => `intDiv(toUnixTimestamp(timestamp), ${ms / 1000}) * ${ms / 1000}`;
    const set = finest === undefined ? undefined : { bucketMs: finest, bucketOf: runBucket(finest), hint: true };
    const conds = [rangeCondition('timestamp', cover.raw, params, p, (n) => `fromUnixTimestamp64Milli({${n}:Int64})`, 1, set), ...whereRuns];
    const named = new Set(groups.map((g) => g.replace(/`/g, '')));
    const kept = spec.columns.filter((c) => !named.has(c));
    const cols = [...groupSelects(rule), ...kept].join(', ');
    const outer = [...groups, ...kept].join(', ');
    // Buckets to join on: the finest tier's (each edge piece lies in one), or hours for whole windows.
    const joinMs = finest ?? HOUR_MS;
    const joined = cover.raw.length > MANY_PIECES ? bucketJoin(cover.raw, params, p, joinMs, 'ms', true) : null;
    const rows = joined
      ? `(SELECT ${outer}, w FROM (SELECT ${cols}, ${runBucket(joinMs)} AS ${p}b, ${t} AS ${p}t
        FROM ${table} WHERE ${conds.join(' AND ')}) AS ${p}r
      ${joined.join}
      WHERE ${joined.filter})`
      : `(SELECT ${cols}, ${windowOf(t, cover.raw, params, p, 'ms')} AS w
      FROM ${table} WHERE ${conds.join(' AND ')})`;
    parts.push(runsAggregateSql(rows, kind, [...groups, 'w'], [...groups, 'w'], '', kinds));
  }

  const merged =
    parts.length === 1
      ? parts[0]!
      : `SELECT ${[...outKeys, ...mergedMeasuresSql(kind)].join(', ')}
FROM (${parts.join('\nUNION ALL\n')})
GROUP BY ${outKeys.join(', ')}`;
  if (kind !== 'keyed') return { sql: merged, params };
  params.top = TOP_FINGERPRINTS;
  const by = [...groups, 'w', 'key_kind'].join(', ');
  const sql = `SELECT * EXCEPT (rank) FROM (
  SELECT *, row_number() OVER (PARTITION BY ${by} ORDER BY value DESC, key) AS rank FROM (${merged})
) WHERE key_kind != 'fingerprint' OR rank <= {top:UInt32}`;
  return { sql, params };
}

/**
 * The two queries every signal reads: totals and keyed sums for the rule's windows (see sums.ts);
 * keyed rows of `keyKinds` only (all when unset), no keyed query (null) when that is none.
 */
export function signalQueries(
  rule: Pick<Rule, 'where' | 'groupBy'>,
  table: string,
  windows: readonly WindowBounds[],
  source: AggregateSource | null | undefined,
): { readonly totals: BuiltQuery; readonly keyed: BuiltQuery };
export function signalQueries(
  rule: Pick<Rule, 'where' | 'groupBy'>,
  table: string,
  windows: readonly WindowBounds[],
  source: AggregateSource | null | undefined,
  keyKinds: readonly KeyKind[] | undefined,
): { readonly totals: BuiltQuery; readonly keyed: BuiltQuery | null };
export function signalQueries(
  rule: Pick<Rule, 'where' | 'groupBy'>,
  table: string,
  windows: readonly WindowBounds[],
  source: AggregateSource | null | undefined,
  keyKinds?: readonly KeyKind[],
): { readonly totals: BuiltQuery; readonly keyed: BuiltQuery | null } {
  const keyed = keyKinds !== undefined && keyKinds.length === 0 ? null : aggregateQuery('keyed', rule, table, windows, source, keyKinds);
  return { totals: aggregateQuery('totals', rule, table, windows, source), keyed };
}
