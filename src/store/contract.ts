/**
 * The data contract: one denormalized row per agent run (docs/data-contract.md).
 * This file is the single source of truth for column names; rules, SQL builders and
 * metrics labels check identifiers against it so nothing user-written reaches SQL as text.
 */

export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
  readonly doc: string;
}

export const AGENT_RUNS_COLUMNS: readonly ColumnSpec[] = [
  { name: 'timestamp', type: 'DateTime64(9)', doc: 'run start, UTC' },
  { name: 'trace_id', type: 'String', doc: 'W3C trace id of the run' },
  { name: 'run_id', type: 'String', doc: 'stable id of the run (not the trace id, which may be sampled away)' },
  { name: 'workflow_id', type: 'LowCardinality(String)', doc: 'which workflow definition this run instantiates' },
  { name: 'agent_id', type: 'LowCardinality(String)', doc: 'which agent' },
  { name: 'agent_version', type: 'LowCardinality(String)', doc: 'version of the agent' },
  { name: 'tenant_id', type: 'LowCardinality(String)', doc: "multi-tenant boundary, '' if none" },
  { name: 'environment', type: 'LowCardinality(String)', doc: 'prod, staging, ...' },
  { name: 'service_name', type: 'LowCardinality(String)', doc: 'OTel service.name' },
  { name: 'model', type: 'LowCardinality(String)', doc: 'main model of the run' },
  { name: 'prompt_version', type: 'LowCardinality(String)', doc: 'version of the prompt' },
  { name: 'policy_version', type: 'LowCardinality(String)', doc: 'version of the policy set' },
  { name: 'outcome', type: 'LowCardinality(String)', doc: '`success`, `failure`, `error`, or another word; only `success` counts as success' },
  { name: 'duration_ms', type: 'Float64', doc: 'wall time of the run' },
  { name: 'input_tokens', type: 'UInt64', doc: 'input tokens summed over the run' },
  { name: 'output_tokens', type: 'UInt64', doc: 'output tokens summed over the run' },
  { name: 'token_cost_usd', type: 'Float64', doc: 'model spend of the run' },
  { name: 'tool_cost_usd', type: 'Float64', doc: 'direct tool charges (incl. payment fees) of the run' },
  { name: 'tool_calls', type: 'Map(LowCardinality(String), UInt32)', doc: 'calls per tool name' },
  { name: 'side_effects', type: 'Map(LowCardinality(String), UInt32)', doc: 'count per side-effect type (email_sent, record_updated, ...)' },
  { name: 'policy_allows', type: 'UInt32', doc: 'policy decisions that allowed' },
  { name: 'policy_denials', type: 'UInt32', doc: 'policy decisions that denied' },
  { name: 'policy_escalations', type: 'UInt32', doc: 'policy decisions that escalated to a human' },
  { name: 'denied_rules', type: 'Array(LowCardinality(String))', doc: 'names of the policy rules that denied or escalated' },
  { name: 'output_schema_fingerprint', type: 'String', doc: 'hash of the structural skeleton of the output (keys and types, not values)' },
  // Not a fact about the run but about its reading: how many attributes of the source span
  // could not be read (non-numeric cost, broken JSON). 0 for clean rows and for rows inserted directly.
  { name: 'malformed_fields', type: 'UInt8', doc: 'number of span attributes that could not be parsed and were replaced by 0 / empty (0 for direct inserts)' },
  // Added with the span rollup (read from plain GenAI spans; the root-span view fills them too). Last,
  // so `migrate` can append them to a table created before them and the column order stays the same.
  { name: 'provider', type: 'LowCardinality(String)', doc: "model provider of the run (gen_ai.provider.name, older gen_ai.system), '' if unknown" },
  { name: 'conversation_id', type: 'String', doc: "gen_ai.conversation.id of the run, '' if none" },
  { name: 'tool_errors', type: 'Map(LowCardinality(String), UInt32)', doc: 'failed calls per tool name (error.type set or status Error); also counted in tool_calls' },
  // Added with the signals of 2026-12 (scores, custom metrics, custom dimensions); appended last too.
  { name: 'scores', type: 'Map(LowCardinality(String), Float64)', doc: 'evaluation and feedback scores of the run by name (inline; later ones go to run_scores)' },
  { name: 'metrics', type: 'Map(LowCardinality(String), Float64)', doc: 'custom numeric values of the run by name (signal `metric`)' },
  { name: 'attributes', type: 'Map(LowCardinality(String), String)', doc: 'custom dimensions of the run by key (`attributes.KEY` in where and group_by)' },
];

/** Columns a rule may filter on (`where`) and group by (`group_by`): the low-cardinality dimensions. */
export const DIMENSION_COLUMNS = [
  'workflow_id',
  'agent_id',
  'agent_version',
  'tenant_id',
  'environment',
  'service_name',
  'model',
  'prompt_version',
  'policy_version',
  'outcome',
] as const;

export type DimensionColumn = (typeof DIMENSION_COLUMNS)[number];

const DIMENSION_SET: ReadonlySet<string> = new Set(DIMENSION_COLUMNS);

export function isDimensionColumn(name: string): name is DimensionColumn {
  return DIMENSION_SET.has(name);
}

/**
 * A custom dimension: `attributes.KEY`, one key of the run's `attributes` map. Keys are letters,
 * digits and `_ . : / -` (what OpenTelemetry attribute names use), at most 100 characters, so a
 * checked key is safe as a map subscript in SQL and maps onto one label name.
 */
export type AttributeDimension = `attributes.${string}`;
/** What a rule may filter on and group by: a dimension column or an attribute key. */
export type Dimension = DimensionColumn | AttributeDimension;

export const ATTRIBUTE_DIMENSION_PREFIX = 'attributes.';
const ATTRIBUTE_KEY = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,99}$/;

export function isAttributeDimension(name: string): name is AttributeDimension {
  return name.startsWith(ATTRIBUTE_DIMENSION_PREFIX) && ATTRIBUTE_KEY.test(name.slice(ATTRIBUTE_DIMENSION_PREFIX.length));
}

export function isDimension(name: string): name is Dimension {
  return isDimensionColumn(name) || isAttributeDimension(name);
}

/**
 * The label (and column alias) of a dimension: the column's name, or for `attributes.KEY`
 * `attributes_` + KEY with every character outside [A-Za-z0-9_] replaced by `_`
 * (`attributes.customer.tier` -> `attributes_customer_tier`): a valid Prometheus label name that
 * cannot collide with a column's.
 */
export function dimensionLabel(d: Dimension): string {
  if (isDimensionColumn(d)) return d;
  if (!isAttributeDimension(d)) throw new Error(`not a dimension of the agent_runs contract: ${JSON.stringify(d)}`);
  return `attributes_${d.slice(ATTRIBUTE_DIMENSION_PREFIX.length).replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * A dimension in SQL. Over agent_runs rows (`runs`): the column, or `attributes['KEY']` (the key passed
 * ATTRIBUTE_KEY, which admits no quote or backslash). Over aggregate rows (`aggregates`) and query
 * results: the column named by its label.
 */
export function dimensionSql(d: Dimension, over: 'runs' | 'aggregates'): string {
  if (isDimensionColumn(d)) return dimensionIdentifier(d);
  const label = dimensionLabel(d);
  if (over === 'aggregates') return `\`${label}\``;
  return `attributes['${d.slice(ATTRIBUTE_DIMENSION_PREFIX.length)}']`;
}

/** A dimension selected from agent_runs under its label: `attributes['k'] AS attributes_k`. */
export function dimensionSelect(d: Dimension): string {
  return isDimensionColumn(d) ? dimensionIdentifier(d) : `${dimensionSql(d, 'runs')} AS \`${dimensionLabel(d)}\``;
}

/** The type of a dimension's column in the aggregate tables. */
export function dimensionType(d: Dimension): string {
  if (isAttributeDimension(d)) return 'LowCardinality(String)';
  const c = AGENT_RUNS_COLUMNS.find((x) => x.name === d);
  if (!c) throw new Error(`unknown agent_runs column ${d}`);
  return c.type;
}

/**
 * The key of the series about the tool mix as a whole, in place of one tool name from `tool_calls`:
 * tool_calls_per_run emits it as its `tool` label and evidence key, and messages recognise it by it.
 */
export const MIX_KEY = '__mix__';

/** A safe SQL identifier: only names from the contract ever pass, so quoting is belt and braces. */
export function dimensionIdentifier(name: string): string {
  if (!isDimensionColumn(name)) throw new Error(`not a dimension column of the agent_runs contract: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** Table names come from configuration: accept plain identifiers only (optionally db.table). */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export function checkTableName(name: string, what = 'table'): string {
  if (!TABLE_NAME.test(name)) throw new Error(`invalid ${what} name ${JSON.stringify(name)}: use letters, digits and _`);
  return name;
}
