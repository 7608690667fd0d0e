/**
 * Pre-aggregated agent_runs: what every signal needs, summed per time bucket and per dimension value,
 * so an evaluation reads a few thousand bucket rows instead of re-reading every run of its windows.
 *
 * Two kinds of rows per bucket and value of the aggregates' dimensions. `totals`: runs, successes,
 * cost sums with their squares and products (cost per success's delta-method test), calls per run
 * and their squares (the tool mix test), policy decisions with every second moment (the per-decision
 * ratio test, with and without escalations), runs with an activation. `keyed`: one row per key, per
 * tool its calls, calls² and calls x the run's total; per pair of tools called in one run Σ c_a·c_b;
 * runs per output fingerprint; hits per denied policy rule. Every signal reads from these two, so the
 * rules of a group that share a filter and windows need two queries for all four signals.
 *
 * Three tiers: 5-minute buckets, filled by materialized views on agent_runs as rows are inserted
 * (totals by one view, keyed by one view per key kind: keyedPartSelectSql), and hourly and daily
 * buckets, filled by views on the 5-minute tables (they read already aggregated rows, which keeps the
 * insert cost low). A window is read from daily and hourly buckets for its whole days and hours, from
 * 5-minute buckets for its whole 5-minute stretches at the edges and from agent_runs for the rest (at most 5
 * minutes at each end; see signals/cover.ts), so the answer is the same as a scan of agent_runs, to
 * floating-point summation order, for any evaluation time.
 *
 * Every sum is over runs of per-run quantities, so the buckets can be added in any grouping: a rule's
 * `where` and `group_by` may use any column in the aggregates' dimensions. Which dimensions those
 * are is configured (`aggregates.dimensions`): each one multiplies the rows per bucket by the number
 * of its values seen in that bucket, so a high-cardinality column (a tenant id with thousands of
 * values) belongs there only if rules need it; rules on other columns read agent_runs.
 *
 * The raw part of a query uses the same per-run expressions as the views (`rawMeasuresSql` and the
 * keyed elements, elementsOf), so the two paths cannot drift apart.
 */
import { checkTableName, DIMENSION_COLUMNS, dimensionLabel, dimensionSelect, dimensionSql, dimensionType, isAttributeDimension, isDimension, type Dimension } from './contract.js';
import { qualified, type StoreNames } from './schema.js';

/** Bucket tiers, widest first: the cover of a window takes the widest whole buckets it can. */
export interface Tier {
  readonly name: '1d' | '1h' | '5m';
  readonly ms: number;
}
/**
 * Days answer the middle of a 7-day window in a few rows per group and key; hours and 5-minute
 * buckets only its ragged ends (at most 23 hours and 11 buckets each), so what a query reads hardly
 * depends on the window's length or on how many runs there are.
 */
export const TIERS: readonly Tier[] = [
  { name: '1d', ms: 86_400_000 },
  { name: '1h', ms: 3_600_000 },
  { name: '5m', ms: 300_000 },
];

/** One summed number per bucket: its column, its type, its aggregate over agent_runs rows. */
export interface ScalarMeasure {
  readonly name: string;
  readonly type: 'UInt64' | 'Float64';
  readonly raw: string;
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
  // Duration (mean and its test; the quantiles come from the keyed histogram) and tokens per run.
  // Squares are Float64: a sum of squared token counts overflows 64-bit integers at fleet scale.
  f('duration_sum', 'sum(duration_ms)'),
  f('duration_sq', 'sum(duration_ms * duration_ms)'),
  u('input_tokens_sum', 'sum(input_tokens)'),
  u('output_tokens_sum', 'sum(output_tokens)'),
  f('input_tokens_sq', 'sum(toFloat64(input_tokens) * input_tokens)'),
  f('output_tokens_sq', 'sum(toFloat64(output_tokens) * output_tokens)'),
  f('input_x_output_tokens', 'sum(toFloat64(input_tokens) * output_tokens)'),
];

/**
 * The duration histogram: log-spaced buckets, DURATION_BUCKETS_PER_DOUBLING per doubling (bucket b
 * holds durations in [2^(b/8), 2^((b+1)/8)) ms, a width of 9%), so a quantile read from it is within
 * a bucket (9%) of the true one at any scale, and buckets add across time and groups (unlike a t-digest's
 * centroids, whose merge depends on order). Durations under 1 µs share the lowest bucket.
 */
export const DURATION_BUCKETS_PER_DOUBLING = 8;

export const AGGREGATE_KINDS = ['totals', 'keyed'] as const;
export type AggregateKind = (typeof AGGREGATE_KINDS)[number];
const INTEGER_KINDS = ['tool', 'pair', 'fingerprint', 'denied_rule', 'outcome', 'duration', 'tool_error'] as const;
type IntegerKind = (typeof INTEGER_KINDS)[number];
/** The kinds with exactly one key per run, counting runs: a scalar expression each, no array to explode. */
type PerRunKind = 'fingerprint' | 'outcome' | 'duration';

/**
 * The key of each per-run kind as a scalar over the run row, before its conversion to the keyed
 * table's String key (grouping on the narrow type first is cheaper): the fingerprint, the outcome,
 * the duration bucket.
 */
const PER_RUN_KEYS: Readonly<Record<PerRunKind, string>> = {
  fingerprint: 'output_schema_fingerprint',
  outcome: 'outcome',
  duration: `toInt32(floor(log2(greatest(duration_ms, 0.001)) * ${DURATION_BUCKETS_PER_DOUBLING}))`,
};
function isPerRunKind(k: KeyKind): k is PerRunKind {
  return Object.hasOwn(PER_RUN_KEYS, k);
}
const asKey = (expr: string): string => `CAST(${expr}, 'String')`;
const VALUED_KINDS = ['score', 'metric'] as const;
type ValuedKind = (typeof VALUED_KINDS)[number];
export const KEY_KINDS = [...INTEGER_KINDS, ...VALUED_KINDS] as const;
export type KeyKind = (typeof KEY_KINDS)[number];
function isValuedKind(k: KeyKind): k is ValuedKind {
  return (VALUED_KINDS as readonly string[]).includes(k);
}

/** Separates the two tools of a pair key ("a<US>b"): a control character no tool name carries. */
export const PAIR_SEPARATOR = '\x1f';

/**
 * The keyed sums of a run, per key kind, one element per key: (key, value, value², value x the run's
 * total calls), each element prefixed with `prefix` (the kind, where kinds are mixed). Kinds: `tool`
 * (its calls; the square and product feed the mix test), `pair` (two tools called in one run, a < b:
 * Σ c_a·c_b, the mix test's covariances; a run contributes the pairs of the tools it called, a few,
 * not tools²), `fingerprint` (1 per run), `denied_rule` (1 per hit).
 */
const KEYED_ELEMENTS_OF: Readonly<Record<IntegerKind, (prefix: string) => string>> = {
  tool: (x) => `arrayMap((k, c) -> (${x}CAST(k, 'String'), toUInt64(c), toUInt64(c) * c, toUInt64(c) * ${M}), mapKeys(tool_calls), mapValues(tool_calls))`,
  pair: (x) => `arrayMap(x -> (${x}concat(x.1, '\\x1f', x.2), x.3, toUInt64(0), toUInt64(0)),
      arrayFilter(x -> x.1 < x.2, arrayFlatten(arrayMap((a, ca) -> arrayMap((b, cb) -> (CAST(a, 'String'), CAST(b, 'String'), toUInt64(ca) * cb),
        mapKeys(tool_calls), mapValues(tool_calls)), mapKeys(tool_calls), mapValues(tool_calls)))))`,
  fingerprint: (x) => perRunElement(x, 'fingerprint'),
  denied_rule: (x) => `arrayMap(r -> (${x}CAST(r, 'String'), toUInt64(1), toUInt64(0), toUInt64(0)), denied_rules)`,
  outcome: (x) => perRunElement(x, 'outcome'),
  duration: (x) => perRunElement(x, 'duration'),
  // Failed calls e of a tool with the tool's calls c: Σe, Σe², Σe·c (the delta method's ratio test
  // per tool; Σc and Σc² come from the tool's own elements). The calls are found by position in the
  // map's arrays: the same first match as tool_calls[k], without a map lookup per element (which
  // made this the dearest sparse kind of an insert, though few runs have failed calls).
  tool_error: (x) =>
    `arrayMap((k, e) -> (${x}CAST(k, 'String'), toUInt64(e), toUInt64(e) * e, toUInt64(e) * mapValues(tool_calls)[indexOf(mapKeys(tool_calls), k)]), mapKeys(tool_errors), mapValues(tool_errors))`,
};

/**
 * When a run has elements of a kind: runs without any are left out before a part's view explodes its
 * arrays (the same rows; a fleet whose runs mostly call one tool and carry no scores or failed calls
 * skips most of its runs in the pair and sparse views). Per-run kinds: every run. Tools: nearly
 * every run calls one, and the filter cost more than it saved.
 */
const KIND_PRESENT: Readonly<Partial<Record<KeyKind, string>>> = {
  pair: 'length(tool_calls) > 1',
  denied_rule: 'notEmpty(denied_rules)',
  tool_error: 'notEmpty(tool_errors)',
  score: 'notEmpty(scores)',
  metric: 'notEmpty(metrics)',
};

/** The condition for a run to count in a part (null: every run does). */
function partPresence(kinds: readonly KeyKind[]): string | null {
  const conds = kinds.map((k) => KIND_PRESENT[k]);
  if (conds.some((c) => c === undefined)) return null;
  return conds.join(' OR ');
}

/** A per-run kind's one element: its key, one run. */
function perRunElement(prefix: string, kind: PerRunKind): string {
  return `[(${prefix}${asKey(PER_RUN_KEYS[kind])}, toUInt64(1), toUInt64(0), toUInt64(0))]`;
}

/**
 * The real-valued kinds: per name the value v, v² and 1 (the runs carrying it), Float64. `score`:
 * evaluation and feedback scores (the run's own and, through the scores pass, later ones from
 * run_scores); `metric`: custom per-run values.
 */
const VALUED_ELEMENTS_OF: Readonly<Record<ValuedKind, (prefix: string) => string>> = {
  score: (x) => `arrayMap((k, v) -> (${x}CAST(k, 'String'), v, v * v, toFloat64(1)), mapKeys(scores), mapValues(scores))`,
  metric: (x) => `arrayMap((k, v) -> (${x}CAST(k, 'String'), v, v * v, toFloat64(1)), mapKeys(metrics), mapValues(metrics))`,
};

/** The integer elements cast to the keyed table's Float64 measures, to share arrays with the valued ones. */
function asFloat(elements: string): string {
  return `arrayMap(t -> (t.1, t.2, toFloat64(t.3), toFloat64(t.4), toFloat64(t.5)), ${elements})`;
}

/** A kind's elements, each tuple led by its kind when `prefix` is `'<kind>', `. */
function elementsOf(kind: KeyKind, prefix: string): string {
  if (isValuedKind(kind)) return VALUED_ELEMENTS_OF[kind](prefix);
  const e = KEYED_ELEMENTS_OF[kind](prefix);
  return prefix === '' ? e : asFloat(e);
}

/** The kinds' elements in one array, each tuple led by its kind: (kind, key, value, value², value x total). */
function keyedElements(kinds: readonly KeyKind[]): string {
  return `arrayConcat(
    ${kinds.map((k) => elementsOf(k, `'${k}', `)).join(',\n    ')})`;
}
const KEYED_ELEMENTS = keyedElements(KEY_KINDS);

/**
 * The views that fill the finest keyed table, each exploding the kinds it lists: tools and pairs
 * alone (the most elements), then one element per run (fingerprint, outcome, duration bucket), then
 * the sparse ones (denied rules, failed calls, scores, metrics). Each view costs an insert a pass
 * over the block, so kinds with few elements share one.
 */
export const KEYED_PARTS = {
  tool: ['tool'],
  pair: ['pair'],
  per_run: ['fingerprint', 'outcome', 'duration'],
  sparse: ['denied_rule', 'tool_error', 'score', 'metric'],
} as const satisfies Record<string, readonly KeyKind[]>;
export type KeyedPart = keyof typeof KEYED_PARTS;
const KEYED_PART_NAMES = Object.keys(KEYED_PARTS) as KeyedPart[];

export interface AggregateSpec {
  readonly kind: AggregateKind;
  /** Key columns beyond bucket and dimensions: name, type, expression over the (array-joined) run row. */
  readonly keys: readonly { readonly name: string; readonly type: string; readonly raw: string }[];
  readonly arrayJoin: string | null;
  /** agent_runs columns the expressions read. */
  readonly columns: readonly string[];
  readonly measures: readonly ScalarMeasure[];
}

export const AGGREGATE_SPECS: Readonly<Record<AggregateKind, AggregateSpec>> = {
  totals: {
    kind: 'totals',
    keys: [],
    arrayJoin: null,
    columns: ['outcome', 'token_cost_usd', 'tool_cost_usd', 'tool_calls', 'policy_allows', 'policy_denials', 'policy_escalations', 'duration_ms', 'input_tokens', 'output_tokens'],
    measures: SCALAR_MEASURES,
  },
  keyed: {
    kind: 'keyed',
    keys: [
      { name: 'key_kind', type: 'LowCardinality(String)', raw: 'e.1' },
      { name: 'key', type: 'String', raw: 'e.2' },
    ],
    arrayJoin: `ARRAY JOIN ${KEYED_ELEMENTS} AS e`,
    columns: ['tool_calls', 'output_schema_fingerprint', 'denied_rules', 'outcome', 'duration_ms', 'tool_errors', 'scores', 'metrics'],
    // Float64: scores and metrics are real; integer sums stay exact up to 2^53.
    measures: [f('value', 'sum(e.3)'), f('value_sq', 'sum(e.4)'), f('value_x_total', 'sum(e.5)')],
  },
};

/** What `aggregates:` in agentdrift.yaml configures. */
export interface AggregateSettings {
  readonly enabled: boolean;
  /** Dimensions the aggregates are keyed by: rules filtering or grouping on others read agent_runs. */
  readonly dimensions: readonly Dimension[];
}

/**
 * The default dimensions: the ones that name what runs (workflow, agent, service) and where
 * (environment). Their values come together (one agent and service per workflow, a few
 * environments), so the rows per bucket stay about workflows x environments.
 */
export const DEFAULT_AGGREGATE_DIMENSIONS: readonly Dimension[] = ['workflow_id', 'agent_id', 'environment', 'service_name'];

export const AGGREGATE_DEFAULTS: AggregateSettings = { enabled: true, dimensions: DEFAULT_AGGREGATE_DIMENSIONS };

/** The aggregate tables a daemon found ready in its store (null: read agent_runs only). */
export interface AggregateSource {
  readonly database: string;
  /** agent_runs' name: the aggregate tables are named after it. */
  readonly agentRuns: string;
  readonly dimensions: readonly Dimension[];
}

/**
 * Dimensions in the contract's order, then attribute keys sorted, deduplicated: the same set always
 * gives the same tables.
 */
export function normalizeDimensions(dims: readonly string[]): Dimension[] {
  for (const d of dims) if (!isDimension(d)) throw new Error(`not a dimension of the agent_runs contract: ${JSON.stringify(d)}`);
  const attributes = [...new Set(dims.filter(isAttributeDimension))].sort();
  const labels = new Set<string>();
  for (const a of attributes) {
    const label = dimensionLabel(a);
    if (labels.has(label)) throw new Error(`attribute dimensions ${JSON.stringify(attributes.filter((x) => dimensionLabel(x) === label))} share the label ${label}`);
    labels.add(label);
  }
  return [...DIMENSION_COLUMNS.filter((c) => dims.includes(c)), ...attributes];
}

/**
 * Bump when a table's columns or key change, or what a view writes: migrate rebuilds and backfills.
 * A view written differently for the same rows (the per-run kinds' GROUPING SETS, the pair and
 * sparse views' filters) needs no bump: stores built before keep their views, which
 * `migrate --rebuild-aggregates` replaces.
 */
export const AGGREGATES_VERSION = 'agentdrift aggregates v6';

/** The comment a table carries: version and dimensions, and `ready` once its backfill completed. */
export function aggregatesComment(dims: readonly Dimension[], ready: boolean): string {
  return `${AGGREGATES_VERSION}; dimensions=${dims.join(',')}${ready ? '; ready' : ''}`;
}

export function aggregateTableName(n: Pick<StoreNames, 'agentRuns'>, tier: Tier, kind: AggregateKind): string {
  return checkTableName(`${n.agentRuns}_agg_${tier.name}_${kind}`);
}

export function aggregateViewName(n: Pick<StoreNames, 'agentRuns'>, tier: Tier, kind: AggregateKind): string {
  return checkTableName(`${n.agentRuns}_agg_${tier.name}_${kind}_mv`);
}

/**
 * The parts a kind's finest table is filled by, one view each: the keyed kinds apart (see
 * keyedPartSelectSql), totals whole (null). The wider tiers have one view, re-bucketing the finest table.
 */
function viewParts(tier: Tier, kind: AggregateKind): readonly (KeyedPart | null)[] {
  return tier === FINEST && kind === 'keyed' ? KEYED_PART_NAMES : [null];
}

/** The finest keyed table's part views of v5 (one per kind) that v6 no longer has. */
const RETIRED_PARTS = ['fingerprint', 'denied_rule'] as const;

function partViewName(n: Pick<StoreNames, 'agentRuns'>, tier: Tier, kind: AggregateKind, part: string | null): string {
  return part === null ? aggregateViewName(n, tier, kind) : checkTableName(`${n.agentRuns}_agg_${tier.name}_${kind}_${part}_mv`);
}

export interface AggregateObject {
  readonly tier: Tier;
  readonly kind: AggregateKind;
  readonly table: string;
  /** The views that fill the table. */
  readonly views: readonly string[];
  /**
   * Views of earlier versions that filled the table and are not in `views` (the 5-minute keyed
   * table's single view before v5): dropped with the set, or they would go on writing into it.
   */
  readonly retiredViews: readonly string[];
}

/** Every aggregate table with its views, the 5-minute tier first (the wider tiers' views read it). */
export function aggregateObjects(n: Pick<StoreNames, 'agentRuns'>): AggregateObject[] {
  return [...TIERS].reverse().flatMap((tier) =>
    AGGREGATE_KINDS.map((kind) => {
      const views = viewParts(tier, kind).map((part) => partViewName(n, tier, kind, part));
      const single = aggregateViewName(n, tier, kind);
      const retired = views.includes(single) ? [] : [single, ...RETIRED_PARTS.map((p) => partViewName(n, tier, kind, p))];
      return { tier, kind, table: aggregateTableName(n, tier, kind), views, retiredViews: retired };
    }),
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

export function createAggregateTableSql(n: StoreNames, tier: Tier, kind: AggregateKind, dims: readonly Dimension[], o: DdlOptions = {}): string {
  const spec = AGGREGATE_SPECS[kind];
  const name = aggregateTableName(n, tier, kind);
  const cols = [
    "    bucket DateTime('UTC') COMMENT 'start of the bucket'",
    ...dims.map((d) => `    ${dimensionSql(d, 'aggregates')} ${dimensionType(d)}`),
    ...spec.keys.map((k) => `    ${k.name} ${k.type}`),
    ...spec.measures.map((m) => `    ${m.name} SimpleAggregateFunction(sum, ${m.type})`),
  ];
  const key = ['bucket', ...dims.map((d) => dimensionSql(d, 'aggregates')), ...spec.keys.map((k) => k.name)].join(', ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(n.database, name)}${o.onCluster ? ` ON CLUSTER ${checkTableName(o.onCluster, 'cluster')}` : ''}
(
${cols.join(',\n')}
)
ENGINE = ${o.engine ? o.engine(name) : 'AggregatingMergeTree'}
PARTITION BY toYYYYMM(bucket)
ORDER BY (${key})${ttlClause(o.ttlDays)}
COMMENT '${aggregatesComment(dims, o.ready ?? false)}'`;
}

/** Key columns of a kind as a SELECT list over run rows (after its ARRAY JOIN). */
export function rawKeysSql(kind: AggregateKind): string[] {
  return AGGREGATE_SPECS[kind].keys.map((k) => `${k.raw} AS ${k.name}`);
}

/** The aggregates of a kind over run rows (a GROUP BY's SELECT list): the views' and a query's raw part. */
export function rawMeasuresSql(kind: AggregateKind): string[] {
  return AGGREGATE_SPECS[kind].measures.map((m) => `${m.raw} AS ${m.name}`);
}

/** Sums of already aggregated rows (wider buckets, or the parts of a query). */
export function mergedMeasuresSql(kind: AggregateKind): string[] {
  return AGGREGATE_SPECS[kind].measures.map((m) => `sum(${m.name}) AS ${m.name}`);
}

/**
 * `SELECT <select> FROM <source> [ARRAY JOIN ...] [WHERE ...] GROUP BY <groupBy>` for run rows: the
 * kind's keys and measures after `select`. The views and the backfill group by bucket; a query's raw
 * part by its groups and window.
 */
export function runsAggregateSql(source: string, kind: AggregateKind, select: readonly string[], groupBy: readonly string[], where = '', keyKinds?: readonly KeyKind[]): string {
  const spec = AGGREGATE_SPECS[kind];
  // Keyed rows of some kinds only: only theirs are exploded.
  const arrayJoin = kind === 'keyed' && keyKinds !== undefined ? `ARRAY JOIN ${keyedElements(keyKinds)} AS e` : spec.arrayJoin;
  return `SELECT ${[...select, ...rawKeysSql(kind), ...rawMeasuresSql(kind)].join(', ')}
FROM ${source}${arrayJoin ? `\n${arrayJoin}` : ''}${where ? `\nWHERE ${where}` : ''}
GROUP BY ${[...groupBy, ...spec.keys.map((k) => k.name)].join(', ')}`;
}

/** The SELECT that aggregates run rows of `source` into buckets of `tier` (the 5-minute views and the backfill). */
export function bucketSelectSql(source: string, tier: Tier, kind: AggregateKind, dims: readonly Dimension[], where = ''): string {
  return runsAggregateSql(
    source,
    kind,
    [`${bucketExpr(tier, 'timestamp')} AS bucket`, ...dims.map(dimensionSelect)],
    ['bucket', ...dims.map((d) => dimensionSql(d, 'aggregates'))],
    where,
  );
}

/**
 * One key kind of the keyed aggregates over run rows into buckets of `tier`: a view each on the
 * finest tier, and the backfill. Apart, each kind explodes only its own elements (a fingerprint
 * needs none), and the rows are grouped by a 64-bit hash of the run's dimensions (computed once per
 * run, before the explosion) instead of the dimensions themselves: grouping on several
 * LowCardinality columns is ClickHouse's slowest key layout, and this view is most of what the
 * aggregates add to an insert (split and hashed, it aggregates far faster than as one view:
 * docs/benchmarks.md). The dimensions come back as any() of their group, which is exact unless two
 * dimension tuples in one bucket and key share a hash: with n tuples in a bucket the chance is about
 * n²/2^65 (1e4 tuples: 3e-12 per bucket).
 */
export function keyedPartSelectSql(source: string, tier: Tier, part: KeyedPart, dims: readonly Dimension[], where = ''): string {
  const dimCols = dims.map((d) => dimensionSql(d, 'aggregates'));
  const named = new Set<string>(dims.filter((d) => !isAttributeDimension(d)));
  const cols = [...dims.map(dimensionSelect), ...['timestamp', ...AGGREGATE_SPECS.keyed.columns].filter((c) => !named.has(c))];
  const hashed = dimCols.length > 0;
  const [kindCol, keyCol] = AGGREGATE_SPECS.keyed.keys.map((k) => k.name);
  const kinds: readonly KeyKind[] = KEYED_PARTS[part];
  const group = ['b', ...(hashed ? ['dh'] : [])];
  const present = partPresence(kinds);
  const conds = [where, present].filter((c): c is string => c !== null && c !== '');
  const filter = conds.length === 0 ? '' : ` WHERE ${conds.length === 1 ? conds[0] : conds.map((c) => `(${c})`).join(' AND ')}`;
  const inner = (columns: readonly string[]) =>
    `FROM (SELECT ${columns.join(', ')}, ${bucketExpr(tier, 'timestamp')} AS b${hashed ? `, cityHash64(${dimCols.join(', ')}) AS dh` : ''} FROM ${source}${filter})`;
  if (kinds.every(isPerRunKind)) return perRunPartSql(kinds as readonly PerRunKind[], dims, group, inner);
  // One kind: its elements are (key, then the spec's measures in order), the kind a constant; several:
  // each element is led by its kind.
  const single = kinds.length === 1;
  const first = single ? 1 : 2;
  const elements = single ? elementsOf(kinds[0]!, '') : `arrayConcat(${kinds.map((k) => elementsOf(k, `'${k}', `)).join(', ')})`;
  const measures = AGGREGATE_SPECS.keyed.measures.map((m, i) => `sum(e.${i + first + 1}) AS ${m.name}`);
  return `SELECT b AS bucket, ${[...dimCols.map((d) => `any(${d}) AS ${d}`), single ? `'${kinds[0]}' AS ${kindCol}` : `e.1 AS ${kindCol}`, `e.${first} AS ${keyCol}`, ...measures].join(', ')}
${inner(cols)}
ARRAY JOIN ${elements} AS e
GROUP BY ${[...group, ...(single ? [] : [kindCol]), keyCol].join(', ')}`;
}

/**
 * Kinds with one key per run need no explosion: one GROUPING SETS aggregation counts the runs per
 * bucket, dimensions and key of each kind in a single pass over the block (three times faster than
 * exploding three elements per run and grouping them: docs/benchmarks.md). `grouping(k) = 0` marks
 * the rows of the set that groups by k; the key is converted to String after the grouping, on
 * aggregated rows, to the same text as the kind's element (perRunElement).
 */
function perRunPartSql(kinds: readonly PerRunKind[], dims: readonly Dimension[], group: readonly string[], inner: (columns: readonly string[]) => string): string {
  const dimCols = dims.map((d) => dimensionSql(d, 'aggregates'));
  const [kindCol, keyCol] = AGGREGATE_SPECS.keyed.keys.map((k) => k.name);
  const alias = (i: number) => `k${i}`;
  const pick = (value: (k: PerRunKind, i: number) => string) =>
    kinds.length === 1 ? value(kinds[0]!, 0) : `multiIf(${kinds.slice(0, -1).map((k, i) => `grouping(${alias(i)}) = 0, ${value(k, i)}`).join(', ')}, ${value(kinds[kinds.length - 1]!, kinds.length - 1)})`;
  const [value, valueSq, valueXTotal] = AGGREGATE_SPECS.keyed.measures.map((m) => m.name);
  const columns = [...dims.map(dimensionSelect), ...kinds.map((k, i) => `${PER_RUN_KEYS[k]} AS ${alias(i)}`)];
  const sets = kinds.map((_, i) => `(${[...group, alias(i)].join(', ')})`);
  return `SELECT b AS bucket, ${[
    ...dimCols.map((d) => `any(${d}) AS ${d}`),
    `${pick((k) => `'${k}'`)} AS ${kindCol}`,
    `${pick((_, i) => asKey(alias(i)))} AS ${keyCol}`,
    `toFloat64(count()) AS ${value}`,
    `toFloat64(0) AS ${valueSq}`,
    `toFloat64(0) AS ${valueXTotal}`,
  ].join(', ')}
${inner(columns)}
GROUP BY ${kinds.length === 1 ? sets[0]!.slice(1, -1) : `GROUPING SETS (${sets.join(', ')})`}`;
}

/** The SELECTs that fill the finest table of a kind from run rows, one per view (see viewParts). */
export function finestSelectsSql(source: string, kind: AggregateKind, dims: readonly Dimension[], where = ''): string[] {
  return viewParts(FINEST, kind).map((part) => (part === null ? bucketSelectSql(source, FINEST, kind, dims, where) : keyedPartSelectSql(source, FINEST, part, dims, where)));
}

/** The SELECT that adds finer buckets of `from` into the wider buckets of `tier` (the hourly and daily views). */
export function rebucketSelectSql(fromTable: string, tier: Tier, kind: AggregateKind, dims: readonly Dimension[]): string {
  const passthrough = [...dims.map((d) => dimensionSql(d, 'aggregates')), ...AGGREGATE_SPECS[kind].keys.map((k) => k.name)];
  return `SELECT ${bucketExpr(tier, 'bucket')} AS bucket, ${[...passthrough, ...mergedMeasuresSql(kind)].join(', ')}
FROM ${fromTable}
GROUP BY ${['bucket', ...passthrough].join(', ')}`;
}

/** The CREATE MATERIALIZED VIEW statements of a table, in the order of its object's `views`. */
export function createAggregateViewsSql(
  n: StoreNames,
  tier: Tier,
  kind: AggregateKind,
  dims: readonly Dimension[],
  o: DdlOptions & { readonly sourceRuns?: string; readonly sourceTable?: (t: string) => string } = {},
): string[] {
  const local = (t: string) => (o.sourceTable ? o.sourceTable(t) : t);
  const target = qualified(n.database, local(aggregateTableName(n, tier, kind)));
  const selects =
    tier === FINEST
      ? finestSelectsSql(o.sourceRuns ?? qualified(n.database, n.agentRuns), kind, dims)
      : [rebucketSelectSql(qualified(n.database, local(aggregateTableName(n, FINEST, kind))), tier, kind, dims)];
  return viewParts(tier, kind).map((part, i) => {
    const view = qualified(n.database, partViewName(n, tier, kind, part));
    return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${view}${o.onCluster ? ` ON CLUSTER ${checkTableName(o.onCluster, 'cluster')}` : ''} TO ${target}
AS ${selects[i]!}`;
  });
}

/**
 * The setting an INSERT into agent_runs (or into a table whose views lead there) should carry:
 * ClickHouse pushes an inserted block through the attached views one after another by default, in the
 * inserting thread; with `parallel_view_processing` it pushes to them concurrently. The aggregates
 * hang nine views off agent_runs (five on it, four on the 5-minute tables). In turn they slow an
 * insert down, mostly by waiting rather than aggregating; concurrently, far less. Query-level, so
 * agentdrift's own inserts carry it (the rollup's passes, the demo seed); an operator's ingest sets
 * it in the inserting user's settings profile (docs/data-contract.md, "Ingest", with the figures).
 */
export const INGEST_SETTINGS = { parallel_view_processing: 1 } as const;

/** INGEST_SETTINGS as the SETTINGS clause of an INSERT ... SELECT. */
export const INGEST_SETTINGS_SQL = `SETTINGS ${Object.entries(INGEST_SETTINGS)
  .map(([k, v]) => `${k} = ${v}`)
  .join(', ')}`;

/** The finest tier: the only one the backfill writes (the wider ones follow through their views). */
export const FINEST_TIER = FINEST;
