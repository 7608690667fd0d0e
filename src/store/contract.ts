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
