/**
 * DDL owned by agentdrift: the agent_runs table of the data contract, the OpenTelemetry Collector
 * exporter's otel_traces table (created only when absent, with the exporter's own Map-typed DDL), and
 * the materialized view that turns each root span carrying a run summary into one agent_runs row as
 * it is inserted (traces without a summary are rolled up from their spans: see rollupSchema.ts).
 * Table names come from configuration and are checked to be plain identifiers before use.
 */
import { badCount, countMap, firstOf, num, resourceAttr as res, ROOT_SUMMARY, spanAttr as attr, STATUS_IS_ERROR, stringArray } from './attributes.js';
import { AGENT_RUNS_COLUMNS, checkTableName, type ColumnSpec } from './contract.js';

export interface StoreNames {
  readonly database: string;
  readonly agentRuns: string;
  readonly otelTraces: string;
  readonly view: string;
}

export const DEFAULT_NAMES: Omit<StoreNames, 'database'> = {
  agentRuns: 'agent_runs',
  otelTraces: 'otel_traces',
  view: 'agent_runs_from_otel',
};

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

export function rootSpanSelectSql(source: string): string {
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
  const bad = badCount([inTok, outTok, tokenCost, toolCost, allows, denials, escalations, toolCalls, sideEffects, denied, toolErrors]);
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
    toUInt8(${bad}) AS malformed_fields,
    ${firstOf(attr('gen_ai.provider.name'), attr('gen_ai.system'))} AS provider,
    ${attr('gen_ai.conversation.id')} AS conversation_id,
    ${toolErrors.value} AS tool_errors
FROM ${source}
WHERE ${ROOT_SUMMARY}`;
}

/**
 * Stored as the view's comment: `migrate` replaces the query of a view whose comment differs. Change
 * it whenever rootSpanSelectSql changes what it selects or which spans it takes.
 * Version 2: only root spans with an `agent.run.*` summary (the rollup takes the others), and the
 * provider, conversation_id and tool_errors columns.
 */
export const VIEW_VERSION = 'agentdrift root-span view v2';

export function createViewSql(n: StoreNames): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualified(n.database, n.view)}
TO ${qualified(n.database, n.agentRuns)}
COMMENT '${VIEW_VERSION}'
AS ${rootSpanSelectSql(qualified(n.database, n.otelTraces))}`;
}

/** Brings an existing view to VIEW_VERSION in place (ClickHouse 23.x needs DROP and CREATE instead). */
export function updateViewSql(n: StoreNames): string[] {
  return [
    `ALTER TABLE ${qualified(n.database, n.view)} MODIFY QUERY ${rootSpanSelectSql(qualified(n.database, n.otelTraces))}`,
    `ALTER TABLE ${qualified(n.database, n.view)} MODIFY COMMENT '${VIEW_VERSION}'`,
  ];
}

/** Appends one contract column to an agent_runs table created before it existed. */
export function addColumnSql(n: StoreNames, column: ColumnSpec): string {
  return `ALTER TABLE ${qualified(n.database, n.agentRuns)} ADD COLUMN IF NOT EXISTS ${columnDdl(column)}`;
}
