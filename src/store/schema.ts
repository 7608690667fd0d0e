/**
 * DDL owned by agentdrift: the agent_runs table of the data contract, the OpenTelemetry Collector
 * exporter's otel_traces table (created only when absent, with the exporter's own Map-typed DDL), and
 * the materialized view that turns each root span carrying a run summary into one agent_runs row as
 * it is inserted (traces without a summary are rolled up from their spans: see rollupSchema.ts).
 * Table names come from configuration and are checked to be plain identifiers before use.
 */
import {
  attributesMap,
  badCount,
  countMap,
  DEFAULT_SPAN_PREFIXES,
  evaluationScores,
  firstOf,
  meanByName,
  metricsMap,
  num,
  prefixLiteral,
  resourceAttr as res,
  ROOT_SUMMARY,
  scoresJson,
  spanAttr as attr,
  STATUS_IS_ERROR,
  stringArray,
  type SpanPrefixes,
} from './attributes.js';
import { AGENT_RUNS_COLUMNS, checkTableName, type ColumnSpec } from './contract.js';

export interface StoreNames {
  readonly database: string;
  readonly agentRuns: string;
  readonly otelTraces: string;
  readonly view: string;
  /** Scores that arrive after their run (`tables.run_scores`); default DEFAULT_NAMES.runScores. */
  readonly runScores?: string;
  /**
   * Where the root span carries custom dimensions and metrics (`rollup.attribute_prefix`,
   * `rollup.metric_prefix`): the view's DDL embeds them, so they travel with the names of the objects
   * migrate builds. Default DEFAULT_SPAN_PREFIXES.
   */
  readonly prefixes?: SpanPrefixes;
}

export const DEFAULT_NAMES: Omit<StoreNames, 'database'> & { readonly runScores: string } = {
  agentRuns: 'agent_runs',
  otelTraces: 'otel_traces',
  view: 'agent_runs_from_otel',
  runScores: 'run_scores',
};

/** The run_scores table's name. */
export function runScoresTable(n: StoreNames): string {
  return checkTableName(n.runScores ?? DEFAULT_NAMES.runScores);
}

/** The prefixes of a store's custom dimensions and metrics. */
export function spanPrefixes(n: StoreNames): SpanPrefixes {
  return n.prefixes ?? DEFAULT_SPAN_PREFIXES;
}

export function qualified(database: string, table: string): string {
  return `\`${checkTableName(database, 'database')}\`.\`${checkTableName(table)}\``;
}

function ttlClause(column: string, ttlDays: number | undefined): string {
  if (ttlDays === undefined) return '';
  if (!Number.isInteger(ttlDays) || ttlDays <= 0) throw new Error(`ttl_days must be a positive integer, got ${ttlDays}`);
  return `TTL toDateTime(${column}) + toIntervalDay(${ttlDays})`;
}

export function createDatabaseSql(n: StoreNames): string {
  return `CREATE DATABASE IF NOT EXISTS \`${checkTableName(n.database, 'database')}\``;
}

function columnDdl(c: ColumnSpec): string {
  const def = c.name === 'malformed_fields' ? ' DEFAULT 0' : '';
  return `\`${c.name}\` ${c.type}${def} COMMENT '${c.doc.replace(/'/g, "\\'")}'`;
}

export function createAgentRunsSql(n: StoreNames, ttlDays?: number): string {
  const cols = AGENT_RUNS_COLUMNS.map((c) => `    ${columnDdl(c)}`).join(',\n');
  return `CREATE TABLE IF NOT EXISTS ${qualified(n.database, n.agentRuns)}
(
${cols}
)
ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (workflow_id, timestamp)
${ttlClause('timestamp', ttlDays)}`;
}

/** The exporter's traces table, Map-typed attributes (its default schema), kept close to its DDL. */
export function createOtelTracesSql(n: StoreNames, ttlDays?: number): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(n.database, n.otelTraces)}
(
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
${ttlClause('Timestamp', ttlDays)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`;
}

// --- the root span -> agent_runs mapping --------------------------------------------------------
// Every attribute value is a string (that is how the exporter stores them). Unreadable values become
// 0 / empty and are counted in malformed_fields: an odd span must never fail the exporter's batch,
// so nothing in this SELECT may throw (only *OrZero / *OrNull / JSONExtract forms are used).

export function rootSpanSelectSql(source: string, prefixes: SpanPrefixes = DEFAULT_SPAN_PREFIXES): string {
  const inTok = num(firstOf(attr('agent.run.input_tokens'), attr('gen_ai.usage.input_tokens')), 'UInt64');
  const outTok = num(firstOf(attr('agent.run.output_tokens'), attr('gen_ai.usage.output_tokens')), 'UInt64');
  const tokenCost = num(attr('agent.run.token_cost_usd'), 'Float64');
  const toolCost = num(attr('agent.run.tool_cost_usd'), 'Float64');
  const allows = num(attr('agent.run.policy.allows'), 'UInt32');
  const denials = num(attr('agent.run.policy.denials'), 'UInt32');
  const escalations = num(attr('agent.run.policy.escalations'), 'UInt32');
  const toolCalls = countMap(attr('agent.run.tool_calls'));
  const sideEffects = countMap(attr('agent.run.side_effects'));
  const denied = stringArray(attr('agent.run.policy.denied_rules'));
  const toolErrors = countMap(attr('agent.run.tool_errors'));
  // Scores: the root span's evaluation events and the JSON form, averaged per name.
  const events = evaluationScores();
  const inlineScores = scoresJson(attr('agent.run.scores'));
  const metrics = metricsMap(prefixLiteral(prefixes.metrics), attr('agent.run.metrics'));
  const attributes = attributesMap(prefixLiteral(prefixes.attributes), attr('agent.run.attributes'));
  const bad = badCount([inTok, outTok, tokenCost, toolCost, allows, denials, escalations, toolCalls, sideEffects, denied, toolErrors, events, inlineScores, metrics, attributes]);
  return `SELECT
    Timestamp AS timestamp,
    TraceId AS trace_id,
    ${firstOf(attr('agent.run_id'), 'TraceId')} AS run_id,
    ${firstOf(attr('agent.workflow_id'), attr('gen_ai.workflow.name'))} AS workflow_id,
    ${firstOf(attr('gen_ai.agent.id'), attr('gen_ai.agent.name'))} AS agent_id,
    ${attr('gen_ai.agent.version')} AS agent_version,
    ${attr('agent.tenant_id')} AS tenant_id,
    ${firstOf(res('deployment.environment.name'), res('deployment.environment'))} AS environment,
    ServiceName AS service_name,
    ${attr('gen_ai.request.model')} AS model,
    ${attr('agent.prompt_version')} AS prompt_version,
    ${attr('agent.policy_version')} AS policy_version,
    ${firstOf(attr('agent.run.outcome'), `if(${STATUS_IS_ERROR}, 'error', 'success')`)} AS outcome,
    Duration / 1e6 AS duration_ms,
    ${inTok.value} AS input_tokens,
    ${outTok.value} AS output_tokens,
    ${tokenCost.value} AS token_cost_usd,
    ${toolCost.value} AS tool_cost_usd,
    ${toolCalls.value} AS tool_calls,
    ${sideEffects.value} AS side_effects,
    ${allows.value} AS policy_allows,
    ${denials.value} AS policy_denials,
    ${escalations.value} AS policy_escalations,
    ${denied.value} AS denied_rules,
    ${attr('agent.run.output_schema_fingerprint')} AS output_schema_fingerprint,
    toUInt8(least(${bad}, 255)) AS malformed_fields,
    ${firstOf(attr('gen_ai.provider.name'), attr('gen_ai.system'))} AS provider,
    ${attr('gen_ai.conversation.id')} AS conversation_id,
    ${toolErrors.value} AS tool_errors,
    ${meanByName(`arrayConcat(${inlineScores.value}, ${events.value})`)} AS scores,
    ${metrics.value} AS metrics,
    ${attributes.value} AS attributes
FROM ${source}
WHERE ${ROOT_SUMMARY}`;
}

/**
 * Stored as the view's comment: `migrate` replaces the query of a view whose comment differs. Change
 * it whenever rootSpanSelectSql changes what it selects or which spans it takes.
 * Version 2: only root spans with an `agent.run.*` summary (the rollup takes the others), and the
 * provider, conversation_id and tool_errors columns.
 * Version 3: scores (evaluation events, agent.run.scores), metrics and attributes (prefixed root-span
 * attributes, agent.run.metrics, agent.run.attributes).
 */
export const VIEW_VERSION = 'agentdrift root-span view v3';

/** The view's comment: its version and the prefixes its query embeds (a changed prefix updates the view). */
export function viewComment(n: StoreNames): string {
  const p = spanPrefixes(n);
  prefixLiteral(p.attributes);
  prefixLiteral(p.metrics);
  return `${VIEW_VERSION}; attribute_prefix=${p.attributes}; metric_prefix=${p.metrics}`;
}

export function createViewSql(n: StoreNames): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualified(n.database, n.view)}
TO ${qualified(n.database, n.agentRuns)}
COMMENT '${viewComment(n)}'
AS ${rootSpanSelectSql(qualified(n.database, n.otelTraces), spanPrefixes(n))}`;
}

/** Brings an existing view to viewComment(n) in place (ClickHouse 23.x needs DROP and CREATE instead). */
export function updateViewSql(n: StoreNames): string[] {
  return [
    `ALTER TABLE ${qualified(n.database, n.view)} MODIFY QUERY ${rootSpanSelectSql(qualified(n.database, n.otelTraces), spanPrefixes(n))}`,
    `ALTER TABLE ${qualified(n.database, n.view)} MODIFY COMMENT '${viewComment(n)}'`,
  ];
}

/**
 * Scores that arrive after their run (an offline judge, user feedback): one row per score, stamped
 * with the run's start so it counts for the run's time. The scores pass (rollup/scores.ts) folds new
 * rows into the keyed aggregates; agent_runs itself is never rewritten.
 */
export function createRunScoresSql(n: StoreNames, ttlDays?: number): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(n.database, runScoresTable(n))}
(
    \`timestamp\` DateTime64(9) COMMENT 'start of the run the score is for (as agent_runs.timestamp)',
    \`run_id\` String COMMENT 'agent_runs.run_id of the run',
    \`name\` LowCardinality(String) COMMENT 'what was scored (the evaluation name)',
    \`value\` Float64 COMMENT 'the score',
    \`source\` LowCardinality(String) DEFAULT '' COMMENT 'who scored: a judge, user feedback, ...',
    \`inserted_at\` DateTime64(3) DEFAULT now64(3) COMMENT 'when the score arrived: the scores pass reads new rows by it'
)
ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (inserted_at, run_id)
${ttlClause('timestamp', ttlDays)}`;
}

/** Appends one contract column to an agent_runs table created before it existed. */
export function addColumnSql(n: StoreNames, column: ColumnSpec): string {
  return `ALTER TABLE ${qualified(n.database, n.agentRuns)} ADD COLUMN IF NOT EXISTS ${columnDdl(column)}`;
}
