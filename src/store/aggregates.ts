/**
 * Pre-aggregated agent_runs: what every signal needs, summed per time bucket and per dimension value,
 * so an evaluation reads a few thousand bucket rows instead of re-reading every run of its windows.
 *
 * One row per bucket and value of the aggregates' dimensions holds every signal's sums at once:
 * runs, successes, cost sums with their squares and products (cost per success's delta-method test),
 * calls per run and their squares (the tool mix test), policy decisions with every second moment
 * (the per-decision ratio test, with and without escalations), runs with an activation; and, as
 * sumMap's (keys, values), per tool the calls, calls² and calls x the run's total, per pair of tools
 * called in one run Σ c_a·c_b, runs per output fingerprint, hits per denied policy rule. So the rules
 * of a group that share a filter and windows need one query for all four signals.
 *
 * Two tiers: 5-minute buckets, filled by a materialized view on agent_runs as rows are inserted, and
 * hourly buckets, filled by a view on the 5-minute table (it reads already aggregated rows, which
 * keeps the insert cost low). A window is read from hourly buckets for its whole hours, from 5-minute
 * buckets for its whole 5-minute stretches at the edges and from agent_runs for the rest (at most 5
 * minutes at each end; see signals/cover.ts), so the answer is the same as a scan of agent_runs, to
 * floating-point summation order, for any evaluation time.
 *
 * Every sum is over runs of per-run quantities, so the buckets can be added in any grouping: a rule's
 * `where` and `group_by` may use any column in the aggregates' dimensions. Which dimensions those
 * are is configured (`aggregates.dimensions`): each one multiplies the rows per bucket by the number
 * of its values seen in that bucket, so a high-cardinality column (a tenant id with thousands of
 * values) belongs there only if rules need it; rules on other columns read agent_runs.
 *
 * The raw part of a query uses the same per-run expressions as the views (`rawMeasuresSql`), so the
 * two paths cannot drift apart.
 */
import { AGENT_RUNS_COLUMNS, checkTableName, DIMENSION_COLUMNS, dimensionIdentifier, type DimensionColumn } from './contract.js';
import { qualified, type StoreNames } from './schema.js';

/** Bucket tiers, widest first: the cover of a window takes the widest whole buckets it can. */
export interface Tier {
  readonly name: '1h' | '5m';
  readonly ms: number;
}
export const TIERS: readonly Tier[] = [
  { name: '1h', ms: 3_600_000 },
  { name: '5m', ms: 300_000 },
];

/** One summed number per bucket: its column, its type, its aggregate over agent_runs rows. */
export interface ScalarMeasure {
  readonly name: string;
  readonly type: 'UInt64' | 'Float64';
  readonly raw: string;
}

/**
 * Sums per key (a tool, a pair of tools, a fingerprint, a denied rule), kept as sumMap's
 * (keys, values) tuple: one row per bucket and dimension values carries every key, so one query
 * answers every signal. `keys` and `values` are per-run arrays over the run's row.
 */
export interface KeyedMeasure {
  readonly name: string;
  readonly keys: string;
  readonly values: string;
}

const u = (name: string, raw: string): ScalarMeasure => ({ name, type: 'UInt64', raw });
const f = (name: string, raw: string): ScalarMeasure => ({ name, type: 'Float64', raw });
const A = 'toUInt64(policy_allows)';
const D = 'toUInt64(policy_denials)';
const E = 'toUInt64(policy_escalations)';
/** The run's calls over all tools. */
const M = 'arraySum(mapValues(tool_calls))';

export const SCALAR_MEASURES: readonly ScalarMeasure[] = [
  u('runs', 'count()'),
  u('successes', "countIf(outcome = 'success')"),
  f('token_cost', 'sum(token_cost_usd)'),
  f('tool_cost', 'sum(tool_cost_usd)'),
  f('token_cost_sq', 'sum(token_cost_usd * token_cost_usd)'),
  f('tool_cost_sq', 'sum(tool_cost_usd * tool_cost_usd)'),
  f('token_x_tool_cost', 'sum(token_cost_usd * tool_cost_usd)'),
  f('success_token_cost', "sumIf(token_cost_usd, outcome = 'success')"),
  f('success_tool_cost', "sumIf(tool_cost_usd, outcome = 'success')"),
  u('calls', `sum(${M})`),
  u('calls_sq', `sum(${M} * ${M})`),
  u('allows', `sum(${A})`),
  u('denials', `sum(${D})`),
  u('escalations', `sum(${E})`),
  u('allows_sq', `sum(${A} * ${A})`),
  u('denials_sq', `sum(${D} * ${D})`),
  u('escalations_sq', `sum(${E} * ${E})`),
  u('allows_x_denials', `sum(${A} * ${D})`),
  u('allows_x_escalations', `sum(${A} * ${E})`),
  u('denials_x_escalations', `sum(${D} * ${E})`),
  u('runs_denied', 'countIf(policy_denials > 0)'),
  u('runs_activated', 'countIf(policy_denials + policy_escalations > 0)'),
];

/** Separates the two tools of a pair key ("a<US>b"); a control character no tool name carries. */
export const PAIR_SEPARATOR = '\x1f';

export const KEYED_MEASURES: readonly KeyedMeasure[] = [
  { name: 'calls_by_tool', keys: "CAST(mapKeys(tool_calls), 'Array(String)')", values: 'arrayMap(c -> toUInt64(c), mapValues(tool_calls))' },
  { name: 'calls_sq_by_tool', keys: "CAST(mapKeys(tool_calls), 'Array(String)')", values: 'arrayMap(c -> toUInt64(c) * c, mapValues(tool_calls))' },
  { name: 'calls_x_total_by_tool', keys: "CAST(mapKeys(tool_calls), 'Array(String)')", values: `arrayMap(c -> toUInt64(c) * ${M}, mapValues(tool_calls))` },
  // Every pair (a < b) of tools one run called, with the product of their calls: the mix test's
  // covariances. A run contributes the pairs of the tools it called, a few, not tools².
  { name: 'calls_product_by_pair', keys: "arrayMap(x -> concat(x.1, '\\x1f', x.2), tool_pairs_of_run)", values: 'arrayMap(x -> x.3, tool_pairs_of_run)' },
  { name: 'runs_by_fingerprint', keys: '[output_schema_fingerprint]', values: '[toUInt64(1)]' },
  { name: 'hits_by_denied_rule', keys: "CAST(denied_rules, 'Array(String)')", values: 'arrayMap(x -> toUInt64(1), denied_rules)' },
];

/** Per-run columns the keyed measures read besides the contract's (computed in a subquery). */
export const RUN_EXTRAS =
  'arrayFilter(x -> x.1 < x.2, arrayFlatten(arrayMap((a, ca) -> arrayMap((b, cb) -> (CAST(a, \'String\'), CAST(b, \'String\'), toUInt64(ca) * cb), ' +
  'mapKeys(tool_calls), mapValues(tool_calls)), mapKeys(tool_calls), mapValues(tool_calls)))) AS tool_pairs_of_run';

/** agent_runs columns the measures read. */
export const MEASURE_COLUMNS = ['outcome', 'token_cost_usd', 'tool_cost_usd', 'tool_calls', 'policy_allows', 'policy_denials', 'policy_escalations', 'denied_rules', 'output_schema_fingerprint'];

const KEYED_TYPE = 'Tuple(Array(String), Array(UInt64))';

/** What `aggregates:` in agentdrift.yaml configures. */
export interface AggregateSettings {
  readonly enabled: boolean;
  /** Dimensions the aggregates are keyed by: rules filtering or grouping on others read agent_runs. */
  readonly dimensions: readonly DimensionColumn[];
}

/**
 * The default dimensions: the ones that name what runs (workflow, agent, service) and where
 * (environment). Their values come together (one agent and service per workflow, a few
 * environments), so the rows per bucket stay about workflows x environments.
 */
export const DEFAULT_AGGREGATE_DIMENSIONS: readonly DimensionColumn[] = ['workflow_id', 'agent_id', 'environment', 'service_name'];

export const AGGREGATE_DEFAULTS: AggregateSettings = { enabled: true, dimensions: DEFAULT_AGGREGATE_DIMENSIONS };

/** Dimensions in the contract's order, deduplicated: the same set always gives the same tables. */
export function normalizeDimensions(dims: readonly string[]): DimensionColumn[] {
  for (const d of dims) dimensionIdentifier(d); // throws for a column outside the contract
  return DIMENSION_COLUMNS.filter((c) => dims.includes(c));
}

/** Bump when a table's columns, key or a view's expression change: migrate rebuilds and backfills. */
export const AGGREGATES_VERSION = 'agentdrift aggregates v2';

/** The comment a table carries: version and dimensions, and `ready` once its backfill completed. */
export function aggregatesComment(dims: readonly DimensionColumn[], ready: boolean): string {
  return `${AGGREGATES_VERSION}; dimensions=${dims.join(',')}${ready ? '; ready' : ''}`;
}

export function aggregateTableName(n: Pick<StoreNames, 'agentRuns'>, tier: Tier): string {
  return checkTableName(`${n.agentRuns}_agg_${tier.name}`);
}

export function aggregateViewName(n: Pick<StoreNames, 'agentRuns'>, tier: Tier): string {
  return checkTableName(`${n.agentRuns}_agg_${tier.name}_mv`);
}

/** Every aggregate table with its view, the 5-minute tier first (the hourly view reads it). */
export function aggregateObjects(n: Pick<StoreNames, 'agentRuns'>): { tier: Tier; table: string; view: string }[] {
  return [...TIERS].reverse().map((tier) => ({ tier, table: aggregateTableName(n, tier), view: aggregateViewName(n, tier) }));
}

const FINEST = TIERS[TIERS.length - 1]!;

function bucketExpr(tier: Tier, column: string): string {
  const minutes = tier.ms / 60_000;
  // UTC, whatever the server's timezone: a +05:30 server would otherwise cut hours at :30.
  return `toDateTime(toStartOfInterval(${column}, INTERVAL ${minutes} MINUTE, 'UTC'), 'UTC')`;
}

function ttlClause(ttlDays: number | undefined): string {
  if (ttlDays === undefined) return '';
  if (!Number.isInteger(ttlDays) || ttlDays <= 0) throw new Error(`ttl_days must be a positive integer, got ${ttlDays}`);
  return `\nTTL bucket + toIntervalDay(${ttlDays})`;
}

export interface DdlOptions {
  readonly ttlDays?: number;
  /** Marks the tables ready (no backfill needed: agent_runs was empty when they were created). */
  readonly ready?: boolean;
  /** Table engine; the cluster DDL passes a Replicated one. */
  readonly engine?: (table: string) => string;
  readonly onCluster?: string;
}

function columnType(name: string): string {
  const c = AGENT_RUNS_COLUMNS.find((x) => x.name === name);
  if (!c) throw new Error(`unknown agent_runs column ${name}`);
  return c.type;
}

export function createAggregateTableSql(n: StoreNames, tier: Tier, dims: readonly DimensionColumn[], o: DdlOptions = {}): string {
  const name = aggregateTableName(n, tier);
  const cols = [
    "    bucket DateTime('UTC') COMMENT 'start of the bucket'",
    ...dims.map((d) => `    ${dimensionIdentifier(d)} ${columnType(d)}`),
    ...SCALAR_MEASURES.map((m) => `    ${m.name} SimpleAggregateFunction(sum, ${m.type})`),
    ...KEYED_MEASURES.map((m) => `    ${m.name} SimpleAggregateFunction(sumMap, ${KEYED_TYPE})`),
  ];
  const key = ['bucket', ...dims.map((d) => dimensionIdentifier(d))].join(', ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(n.database, name)}${o.onCluster ? ` ON CLUSTER ${checkTableName(o.onCluster, 'cluster')}` : ''}
(
${cols.join(',\n')}
)
ENGINE = ${o.engine ? o.engine(name) : 'AggregatingMergeTree'}
PARTITION BY toYYYYMM(bucket)
ORDER BY (${key})${ttlClause(o.ttlDays)}
COMMENT '${aggregatesComment(dims, o.ready ?? false)}'`;
}

/** The aggregates of `measures` over run rows (a GROUP BY's SELECT list): the view's and a query's raw part. */
export function rawMeasuresSql(): string[] {
  return [...SCALAR_MEASURES.map((m) => `${m.raw} AS ${m.name}`), ...KEYED_MEASURES.map((m) => `sumMap(${m.keys}, ${m.values}) AS ${m.name}`)];
}

/** Sums of already aggregated rows (wider buckets, or the parts of a query). */
export function mergedMeasuresSql(): string[] {
  return [...SCALAR_MEASURES.map((m) => `sum(${m.name}) AS ${m.name}`), ...KEYED_MEASURES.map((m) => `sumMap(${m.name}) AS ${m.name}`)];
}

/** Run rows of `source` with the columns the measures read (`where` narrows them: the backfill's parts). */
export function runRowsSql(source: string, columns: readonly string[], where = ''): string {
  const named = new Set(columns.map((c) => c.replace(/`/g, '')));
  return `SELECT ${[...columns, ...MEASURE_COLUMNS.filter((c) => !named.has(c))].join(', ')}, ${RUN_EXTRAS} FROM ${source}${where ? ` WHERE ${where}` : ''}`;
}

/** The SELECT that aggregates run rows of `source` into buckets of `tier` (the 5-minute view and the backfill). */
export function bucketSelectSql(source: string, tier: Tier, dims: readonly DimensionColumn[], where = ''): string {
  const dimCols = dims.map((d) => dimensionIdentifier(d));
  return `SELECT ${bucketExpr(tier, 'timestamp')} AS bucket, ${[...dimCols, ...rawMeasuresSql()].join(', ')}
FROM (${runRowsSql(source, ['timestamp', ...dimCols], where)})
GROUP BY ${['bucket', ...dimCols].join(', ')}`;
}

/** The SELECT that adds finer buckets of `from` into the wider buckets of `tier` (the hourly view). */
export function rebucketSelectSql(fromTable: string, tier: Tier, dims: readonly DimensionColumn[]): string {
  const dimCols = dims.map((d) => dimensionIdentifier(d));
  return `SELECT ${bucketExpr(tier, 'bucket')} AS bucket, ${[...dimCols, ...mergedMeasuresSql()].join(', ')}
FROM ${fromTable}
GROUP BY ${['bucket', ...dimCols].join(', ')}`;
}

export function createAggregateViewSql(
  n: StoreNames,
  tier: Tier,
  dims: readonly DimensionColumn[],
  o: DdlOptions & { readonly sourceRuns?: string; readonly sourceTable?: (t: string) => string } = {},
): string {
  const target = qualified(n.database, o.sourceTable ? o.sourceTable(aggregateTableName(n, tier)) : aggregateTableName(n, tier));
  const view = qualified(n.database, aggregateViewName(n, tier));
  const finer = aggregateTableName(n, FINEST);
  const select =
    tier === FINEST
      ? bucketSelectSql(o.sourceRuns ?? qualified(n.database, n.agentRuns), tier, dims)
      : rebucketSelectSql(qualified(n.database, o.sourceTable ? o.sourceTable(finer) : finer), tier, dims);
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${view}${o.onCluster ? ` ON CLUSTER ${checkTableName(o.onCluster, 'cluster')}` : ''} TO ${target}
AS ${select}`;
}

/** The finest tier: the only one the backfill writes (the wider ones follow through their views). */
export const FINEST_TIER = FINEST;
