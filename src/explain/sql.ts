/**
 * The explanation's SQL, built from the contract and bound parameters only: rule filters come through
 * signals/sql.ts (filterClause), group labels only for the rule's own group_by columns (contract
 * dimensions), and the quantity's per-run expressions are fixed text with their values bound.
 *
 * Every query is bounded: one group (the rule's filters and the series' labels) over the rule's own
 * windows (what moved, attribution), the onset's search range (hourly series), or the current window
 * (example runs). None scans the table beyond the time range it names; agent_runs is ordered by
 * (workflow_id, timestamp), so a group's range is a few granules per day.
 */
import type { Rule } from '../rules/types.js';
import { filterClause, windowIndexExpr, type BuiltQuery } from '../signals/sql.js';
import type { WindowBounds } from '../signals/types.js';
import { dimensionIdentifier, dimensionLabel, dimensionSql, isDimensionColumn, type DimensionColumn } from '../store/contract.js';
import type { Quantity } from './types.js';
import type { KeyKind as AggregateKeyKind } from '../store/aggregates.js';

/** The dimensions attribution looks at (the contract's, minus workflow/agent identity and the outcome). */
export const ATTRIBUTION_DIMENSIONS = ['agent_version', 'model', 'prompt_version', 'policy_version', 'tenant_id', 'service_name', 'environment'] as const satisfies readonly DimensionColumn[];

/** Conditions pinning the series' group: one `col = {gN:String}` per group_by column of the rule. */
export function groupConditions(rule: Pick<Rule, 'groupBy'>, labels: Readonly<Record<string, string>>, params: Record<string, unknown>): string[] {
  return rule.groupBy.map((col, i) => {
    params[`g${i}`] = labels[dimensionLabel(col)] ?? '';
    return `${dimensionSql(col, 'runs')} = {g${i}:String}`;
  });
}

/** The rows of the series: the rule's where and group over `range`, with ts_ms. */
function scoped(rule: Rule, labels: Readonly<Record<string, string>>, table: string, range: readonly WindowBounds[], params: Record<string, unknown>, columns = '*'): string {
  const conds = [filterClause(rule, range, params), ...groupConditions(rule, labels, params)];
  return `SELECT ${columns}, toUnixTimestamp64Milli(timestamp) AS ts_ms FROM ${table}
      WHERE ${conds.join('\n        AND ')}`;
}

/** 0 for the current window, 1 for any baseline window (seasonal baselines are pooled here). */
function windowed(rule: Rule, labels: Readonly<Record<string, string>>, table: string, windows: readonly WindowBounds[], params: Record<string, unknown>, columns: string): string {
  return `SELECT *, ${windowIndexExpr(windows, params)} AS wi, if(wi = 0, 0, 1) AS w
    FROM (${scoped(rule, labels, table, windows, params, columns)})`;
}

/** The columns any quantity's X and N (quantity.ts) may read, besides the dimensions. */
const QUANTITY_COLUMNS = [
  'timestamp', 'tool_calls', 'tool_errors', 'outcome', 'token_cost_usd', 'tool_cost_usd', 'policy_allows', 'policy_denials', 'policy_escalations',
  'output_schema_fingerprint', 'duration_ms', 'input_tokens', 'output_tokens', 'scores', 'metrics',
] as const;

const TOTAL_COLUMNS = 'run_id, outcome, token_cost_usd, tool_cost_usd, policy_allows, policy_denials, policy_escalations';

/** Per window (0 current, 1 baseline): runs, successes, costs and policy decisions of the series. */
export function totalsQuery(rule: Rule, labels: Readonly<Record<string, string>>, table: string, windows: readonly WindowBounds[]): BuiltQuery {
  const params: Record<string, unknown> = {};
  const sql = `SELECT w, count() AS runs, countIf(outcome = 'success') AS successes,
  sum(token_cost_usd) AS token_cost, sum(tool_cost_usd) AS tool_cost,
  sum(policy_allows) AS allows, sum(policy_denials) AS denials, sum(policy_escalations) AS escalations,
  countIf(policy_denials + policy_escalations > 0) AS runs_activated, countIf(policy_denials > 0) AS runs_denied
FROM (${windowed(rule, labels, table, windows, params, TOTAL_COLUMNS)})
GROUP BY w`;
  return { sql, params };
}

/** The key kinds what moved reads, named as the keyed aggregates name them (store/aggregates.ts). */
export type KeyKind = Extract<AggregateKeyKind, 'tool' | 'fingerprint' | 'denied_rule'>;

/** Per window and key: calls per tool, runs per fingerprint, or hits per denied policy rule. */
export function keysQuery(kind: KeyKind, rule: Rule, labels: Readonly<Record<string, string>>, table: string, windows: readonly WindowBounds[]): BuiltQuery {
  const params: Record<string, unknown> = { top: 200 };
  const body =
    kind === 'tool'
      ? `SELECT w, k AS key, sum(v) AS count FROM (${windowed(rule, labels, table, windows, params, 'tool_calls')})
ARRAY JOIN mapKeys(tool_calls) AS k, mapValues(tool_calls) AS v`
      : kind === 'fingerprint'
        ? `SELECT w, output_schema_fingerprint AS key, count() AS count FROM (${windowed(rule, labels, table, windows, params, 'output_schema_fingerprint')})`
        : `SELECT w, r AS key, count() AS count FROM (${windowed(rule, labels, table, windows, params, 'denied_rules')})
ARRAY JOIN denied_rules AS r`;
  // A bounded number of keys per window: a long tail of fingerprints is not what moved.
  return { sql: `${body}\nGROUP BY w, key\nORDER BY count DESC, key\nLIMIT {top:UInt32} BY w`, params };
}

/** The quantity's X and N per hour over `range` (the onset's search range). */
export function hourlyQuery(rule: Rule, labels: Readonly<Record<string, string>>, table: string, q: Quantity, range: WindowBounds): BuiltQuery {
  const params: Record<string, unknown> = { ...q.params };
  const sql = `SELECT toUnixTimestamp(toStartOfHour(timestamp)) * 1000 AS t, sum(toFloat64(${q.x})) AS x, sum(toFloat64(${q.n})) AS n
FROM (${scoped(rule, labels, table, [range], params)})
GROUP BY t
ORDER BY t`;
  return { sql, params };
}

/**
 * Per dimension value: X and N in each window, and the share of the change in X/N it explains,
 * c_v / (R1 - R0) with c_v = x1_v/N1 - x0_v/N0 - R0 (n1_v/N1 - n0_v/N0) (see attribution.ts), all
 * in ClickHouse: one pass over the series' rows, one grouping set per dimension. (The dimensions
 * were unrolled by arrayJoin into a (dimension, value) pair per run and dimension before: seven rows
 * and seven strings per run, grouped again; a grouping set per dimension reads and groups each run
 * once.) grouping() says which set a row comes from: bit i, counted from the last argument, is set
 * when the dimension of that bit is not in the row's set.
 */
export function attributionQuery(rule: Rule, labels: Readonly<Record<string, string>>, table: string, q: Quantity, windows: readonly WindowBounds[]): BuiltQuery {
  const params: Record<string, unknown> = { ...q.params };
  const dims = ATTRIBUTION_DIMENSIONS.filter((d) => !rule.groupBy.includes(d));
  const all = (1 << dims.length) - 1;
  params.dim_masks = dims.map((_, i) => all - (1 << (dims.length - 1 - i)));
  params.dim_names = dims;
  const values = dims.map((d, i) => `toString(${dimensionIdentifier(d)}) AS d${i}`).join(', ');
  const refs = dims.map((_, i) => `d${i}`);
  const cols = [...new Set([...QUANTITY_COLUMNS, ...dims])].join(', ');
  const sql = `SELECT dim, value, x1, n1, x0, n0, first_seen,
  n1 / N1 AS current_share, n0 / N0 AS baseline_share,
  (x1 / N1 - x0 / N0 - (X0 / N0) * (n1 / N1 - n0 / N0)) / (X1 / N1 - X0 / N0) AS explained
FROM (
  SELECT dim, value, x1, n1, x0, n0, first_seen,
    sum(x1) OVER d AS X1, sum(n1) OVER d AS N1, sum(x0) OVER d AS X0, sum(n0) OVER d AS N0
  FROM (
    SELECT indexOf({dim_masks:Array(UInt64)}, grouping(${refs.join(', ')})) AS which,
      {dim_names:Array(String)}[which] AS dim, [${refs.join(', ')}][which] AS value,
      sumIf(x, w = 0) AS x1, sumIf(n, w = 0) AS n1, sumIf(x, w = 1) AS x0, sumIf(n, w = 1) AS n0, min(ts_ms) AS first_seen
    FROM (SELECT toFloat64(${q.x}) AS x, toFloat64(${q.n}) AS n, ts_ms, w, ${values}
          FROM (${windowed(rule, labels, table, windows, params, cols)}))
    GROUP BY GROUPING SETS (${refs.map((r) => `(${r})`).join(', ')}))
  WINDOW d AS (PARTITION BY dim))
ORDER BY dim, explained DESC, value`;
  return { sql, params };
}

/**
 * Up to `limit` runs of the current window after the onset that carry the change (the quantity's
 * `carries`), with the value of the main cause if there is one. Representative rather than extreme:
 * the runs whose X is closest to the median X of all carrying runs, ties broken by a hash of the
 * run id (a deterministic, unbiased pick among equally typical runs).
 */
export function examplesQuery(
  rule: Rule,
  labels: Readonly<Record<string, string>>,
  table: string,
  q: Quantity,
  range: WindowBounds,
  cause: { readonly dimension: string; readonly value: string } | null,
  limit = 5,
): BuiltQuery {
  const params: Record<string, unknown> = { ...q.params, limit };
  const conds = [q.carries];
  if (cause !== null && isDimensionColumn(cause.dimension)) {
    params.cause = cause.value;
    conds.push(`${dimensionIdentifier(cause.dimension)} = {cause:String}`);
  }
  const sql = `SELECT run_id, trace_id, ts_ms, x FROM (
  SELECT run_id, trace_id, ts_ms, toFloat64(${q.x}) AS x, abs(x - median(x) OVER ()) AS distance
  FROM (${scoped(rule, labels, table, [range], params)})
  WHERE ${conds.join(' AND ')})
ORDER BY distance, cityHash64(run_id)
LIMIT {limit:UInt32}`;
  return { sql, params };
}

/**
 * When each cause's value was first seen in the onset's search range (bounded, like every query
 * here): `appeared` and "first seen ... before the onset" come from this, not from the rule's windows,
 * which for a seasonal baseline are separate days.
 */
export function firstSeenQuery(rule: Rule, labels: Readonly<Record<string, string>>, table: string, values: readonly { readonly dimension: string; readonly value: string }[], range: WindowBounds): BuiltQuery | null {
  const params: Record<string, unknown> = {};
  const cols = values.flatMap((v, i) => {
    if (!isDimensionColumn(v.dimension)) return [];
    params[`fv${i}`] = v.value;
    return [`minIf(ts_ms, ${dimensionIdentifier(v.dimension)} = {fv${i}:String}) AS f${i}, countIf(${dimensionIdentifier(v.dimension)} = {fv${i}:String}) AS c${i}`];
  });
  if (cols.length === 0) return null;
  return { sql: `SELECT ${cols.join(', ')} FROM (${scoped(rule, labels, table, [range], params)})`, params };
}
