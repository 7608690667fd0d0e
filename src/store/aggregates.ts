/**
 * Pre-aggregated agent_runs: what every signal needs, summed per time bucket and per dimension value,
 * so an evaluation reads a few thousand bucket rows instead of re-reading every run of its windows.
 *
 * Five kinds of aggregate, each a set of sums over runs keyed by the rule dimensions (and a key):
 *
 *   totals          runs, successes, cost sums and sums of squares and products (cost per success's
 *                   delta-method test), calls per run and their squares (the tool mix test), policy
 *                   decisions with every second moment (the per-decision ratio test, both with and
 *                   without escalations), runs with an activation
 *   tools           per tool: calls, calls², calls x the run's total calls
 *   tool_pairs      per pair of tools called in the same run: Σ c_a·c_b (the mix test's covariances)
 *   fingerprints    per output_schema_fingerprint: runs
 *   denied_rules    per denied policy rule: hits
 *
 * Each kind comes in two tiers: 5-minute buckets, filled by a materialized view on agent_runs as rows
 * are inserted, and hourly buckets, filled by a view on the 5-minute table (so the hourly views read
 * already aggregated rows, which keeps the insert cost low). A window is read from hourly buckets for
 * its whole hours, from 5-minute buckets for its whole 5-minute stretches at the edges and from
 * agent_runs for the rest (at most 5 minutes at each end; see signals/cover.ts), so the answer is the
 * same as a scan of agent_runs, to floating-point summation order, for any evaluation time.
 *
 * Every sum is over runs of per-run quantities, so the buckets can be added in any grouping: a rule's
 * `where` and `group_by` may use any column in the aggregates' dimensions. Which dimensions those
 * are is configured (`aggregates.dimensions`): each one multiplies the rows per bucket by the number
 * of its values seen in that bucket, so a high-cardinality column (a tenant id with thousands of
 * values) belongs there only if rules need it; rules on other columns read agent_runs.
 *
 * The raw tier of a query uses the same per-run expressions as the views (`rawSelect`), so the two
 * paths cannot drift apart.
 */
import { AGENT_RUNS_COLUMNS, checkTableName, DIMENSION_COLUMNS, dimensionIdentifier, type DimensionColumn } from './contract.js';
import { qualified, type StoreNames } from './schema.js';

export const AGGREGATE_KINDS = ['totals', 'tools', 'tool_pairs', 'fingerprints', 'denied_rules'] as const;
export type AggregateKind = (typeof AGGREGATE_KINDS)[number];

/** Bucket tiers, widest first: the cover of a window takes the widest whole buckets it can. */
export interface Tier {
  readonly name: '1h' | '5m';
  readonly ms: number;
}
export const TIERS: readonly Tier[] = [
  { name: '1h', ms: 3_600_000 },
  { name: '5m', ms: 300_000 },
];

/** One summed column: its name in the aggregate tables and query results, its aggregate over runs. */
export interface Measure {
  readonly name: string;
  readonly type: 'UInt64' | 'Float64';
  /** Over agent_runs rows (after the kind's ARRAY JOIN). `m` is the run's calls over all tools. */
  readonly raw: string;
}

export interface KindSpec {
  readonly kind: AggregateKind;
  /** Key columns beyond the dimensions: name, type, expression over the (array-joined) run row. */
  readonly keys: readonly { readonly name: string; readonly type: string; readonly raw: string }[];
  /** ARRAY JOIN clause applied to run rows, if the kind is per element of a map or array. */
  readonly arrayJoin: string | null;
  /** agent_runs columns the raw expressions read. */
  readonly columns: readonly string[];
  readonly measures: readonly Measure[];
}

const u = (name: string, raw: string): Measure => ({ name, type: 'UInt64', raw });
const f = (name: string, raw: string): Measure => ({ name, type: 'Float64', raw });
const A = 'toUInt64(policy_allows)';
const D = 'toUInt64(policy_denials)';
const E = 'toUInt64(policy_escalations)';
const M = 'arraySum(mapValues(tool_calls))';

export const KIND_SPECS: Readonly<Record<AggregateKind, KindSpec>> = {
  totals: {
    kind: 'totals',
    keys: [],
    arrayJoin: null,
    columns: ['outcome', 'token_cost_usd', 'tool_cost_usd', 'tool_calls', 'policy_allows', 'policy_denials', 'policy_escalations'],
    measures: [
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
    ],
  },
  tools: {
    kind: 'tools',
    keys: [{ name: 'tool', type: 'LowCardinality(String)', raw: 'tool' }],
    arrayJoin: 'ARRAY JOIN mapKeys(tool_calls) AS tool, mapValues(tool_calls) AS c',
    columns: ['tool_calls'],
    measures: [u('calls', 'sum(toUInt64(c))'), u('calls_sq', 'sum(toUInt64(c) * c)'), u('calls_x_total', `sum(toUInt64(c) * ${M})`)],
  },
  tool_pairs: {
    kind: 'tool_pairs',
    keys: [
      { name: 'tool_a', type: 'LowCardinality(String)', raw: 'pair.1' },
      { name: 'tool_b', type: 'LowCardinality(String)', raw: 'pair.2' },
    ],
    // Every ordered pair (a < b) of the tools one run called, with the product of their calls: a run
    // contributes the pairs of the tools it called, a few rows, not tools².
    arrayJoin:
      'ARRAY JOIN arrayFilter(x -> x.1 < x.2, arrayFlatten(arrayMap((a, ca) -> arrayMap((b, cb) -> (a, b, toUInt64(ca) * cb), ' +
      'mapKeys(tool_calls), mapValues(tool_calls)), mapKeys(tool_calls), mapValues(tool_calls)))) AS pair',
    columns: ['tool_calls'],
    measures: [u('calls_product', 'sum(pair.3)')],
  },
  fingerprints: {
    kind: 'fingerprints',
    keys: [{ name: 'fingerprint', type: 'String', raw: 'output_schema_fingerprint' }],
    arrayJoin: null,
    columns: ['output_schema_fingerprint'],
    measures: [u('runs', 'count()')],
  },
  denied_rules: {
    kind: 'denied_rules',
    keys: [{ name: 'rule_name', type: 'LowCardinality(String)', raw: 'rule_name' }],
    arrayJoin: 'ARRAY JOIN denied_rules AS rule_name',
    columns: ['denied_rules'],
    measures: [u('hits', 'count()')],
  },
};

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
export const AGGREGATES_VERSION = 'agentdrift aggregates v1';

/** The comment a table carries: version and dimensions, and `ready` once its backfill completed. */
export function aggregatesComment(dims: readonly DimensionColumn[], ready: boolean): string {
  return `${AGGREGATES_VERSION}; dimensions=${dims.join(',')}${ready ? '; ready' : ''}`;
}

export function aggregateTableName(n: Pick<StoreNames, 'agentRuns'>, tier: Tier, kind: AggregateKind): string {
  return checkTableName(`${n.agentRuns}_${tier.name}_${kind}`);
}

export function aggregateViewName(n: Pick<StoreNames, 'agentRuns'>, tier: Tier, kind: AggregateKind): string {
  return checkTableName(`${n.agentRuns}_${tier.name}_${kind}_mv`);
}

/** Every aggregate table with its view, the 5-minute tier first (the hourly views read it). */
export function aggregateObjects(n: StoreNames): { tier: Tier; kind: AggregateKind; table: string; view: string }[] {
  return [...TIERS].reverse().flatMap((tier) =>
    AGGREGATE_KINDS.map((kind) => ({ tier, kind, table: aggregateTableName(n, tier, kind), view: aggregateViewName(n, tier, kind) })),
  );
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

export function createAggregateTableSql(n: StoreNames, tier: Tier, kind: AggregateKind, dims: readonly DimensionColumn[], o: DdlOptions = {}): string {
  const spec = KIND_SPECS[kind];
  const table = qualified(n.database, aggregateTableName(n, tier, kind));
  const cols = [
    "    bucket DateTime('UTC') COMMENT 'start of the bucket'",
    ...dims.map((d) => `    ${dimensionIdentifier(d)} ${columnType(d)}`),
    ...spec.keys.map((k) => `    ${k.name} ${k.type}`),
    ...spec.measures.map((m) => `    ${m.name} SimpleAggregateFunction(sum, ${m.type})`),
  ];
  const key = ['bucket', ...dims.map((d) => dimensionIdentifier(d)), ...spec.keys.map((k) => k.name)].join(', ');
  const engine = o.engine ? o.engine(aggregateTableName(n, tier, kind)) : 'AggregatingMergeTree';
  return `CREATE TABLE IF NOT EXISTS ${table}${o.onCluster ? ` ON CLUSTER ${checkTableName(o.onCluster, 'cluster')}` : ''}
(
${cols.join(',\n')}
)
ENGINE = ${engine}
PARTITION BY toYYYYMM(bucket)
ORDER BY (${key})${ttlClause(o.ttlDays)}
COMMENT '${aggregatesComment(dims, o.ready ?? false)}'`;
}

/**
 * The SELECT that aggregates run rows of `source` into buckets of `tier` (the 5-minute views and the
 * backfill). `where` narrows the rows (the backfill's parts and day).
 */
export function bucketSelectSql(source: string, tier: Tier, kind: AggregateKind, dims: readonly DimensionColumn[], where = ''): string {
  const spec = KIND_SPECS[kind];
  const keyCols = ['bucket', ...dims.map((d) => dimensionIdentifier(d)), ...spec.keys.map((k) => k.name)];
  return `SELECT ${bucketExpr(tier, 'timestamp')} AS bucket, ${[...dims.map((d) => dimensionIdentifier(d)), ...spec.keys.map((k) => `${k.raw} AS ${k.name}`)].join(', ')}${
    dims.length + spec.keys.length > 0 ? ', ' : ''
  }${spec.measures.map((m) => `${m.raw} AS ${m.name}`).join(', ')}
FROM ${source}${spec.arrayJoin ? `\n${spec.arrayJoin}` : ''}${where ? `\nWHERE ${where}` : ''}
GROUP BY ${keyCols.join(', ')}`;
}

/** The SELECT that adds finer buckets of `from` into the wider buckets of `tier` (the hourly views). */
export function rebucketSelectSql(fromTable: string, tier: Tier, kind: AggregateKind, dims: readonly DimensionColumn[]): string {
  const spec = KIND_SPECS[kind];
  const passthrough = [...dims.map((d) => dimensionIdentifier(d)), ...spec.keys.map((k) => k.name)];
  return `SELECT ${bucketExpr(tier, 'bucket')} AS bucket, ${[...passthrough, ...spec.measures.map((m) => `sum(${m.name}) AS ${m.name}`)].join(', ')}
FROM ${fromTable}
GROUP BY ${['bucket', ...passthrough].join(', ')}`;
}

export function createAggregateViewSql(n: StoreNames, tier: Tier, kind: AggregateKind, dims: readonly DimensionColumn[], o: DdlOptions & { readonly sourceRuns?: string; readonly sourceTable?: (t: string) => string } = {}): string {
  const target = qualified(n.database, aggregateTableName(n, tier, kind));
  const view = qualified(n.database, aggregateViewName(n, tier, kind));
  const select =
    tier === FINEST
      ? bucketSelectSql(o.sourceRuns ?? qualified(n.database, n.agentRuns), tier, kind, dims)
      : rebucketSelectSql(
          qualified(n.database, o.sourceTable ? o.sourceTable(aggregateTableName(n, FINEST, kind)) : aggregateTableName(n, FINEST, kind)),
          tier,
          kind,
          dims,
        );
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${view}${o.onCluster ? ` ON CLUSTER ${checkTableName(o.onCluster, 'cluster')}` : ''} TO ${target}
AS ${select}`;
}

/** The finest tier: the only one the backfill writes (the wider ones follow through their views). */
export const FINEST_TIER = FINEST;
