/**
 * The SQL of one rollup pass: plain OpenTelemetry GenAI spans (the Collector's ClickHouse exporter
 * table, every attribute a string) -> one agent_runs row per agent run, computed in ClickHouse by one
 * INSERT ... SELECT into the rollup's input table (see store/rollupSchema.ts for where rows go next).
 *
 * A run is an `invoke_agent` or `invoke_workflow` span with no such span above it, wherever it sits in
 * its trace (under an HTTP server span, say). Every span below it belongs to it, inner agents
 * included. Which spans lie below which is worked out per trace on arrays: parent indexes come from
 * arrayEnumerateDense over the span ids followed by the parent ids (ids are unique once duplicates
 * are dropped, so id i gets number i and a parent gets the number of its span, or a larger one when it
 * is not in the trace), then pointer jumping finds each span's outermost agent ancestor in
 * JUMPS rounds (depth 2^JUMPS) in O(spans * JUMPS) without recursive SQL.
 *
 * The pass takes the runs whose span ENDED in [from, to). Spans are read from `lookback` before
 * `from` (a run may last that long) to `lookback` after `to`. Traces summarized on their root span
 * are the view's: their root spans do not bring a trace into the pass, and if an inner agent span
 * does, its run is marked skipped. Times and prices are bound parameters; attribute keys are
 * constants (store/attributes.ts).
 */
import { AGENT_RUNS_COLUMNS } from '../store/contract.js';
import {
  AGENT_OPERATIONS,
  attributesMap,
  evaluationScores,
  firstOf,
  meanByName,
  metricsMap,
  prefixLiteral,
  scoresJson,
  MODEL_OPERATIONS,
  num,
  OPERATION,
  operationIn,
  resourceAttr as res,
  ROOT_SUMMARY,
  SPAN_FAILED,
  spanAttr as attr,
  TOOL_OPERATION,
  type ReadValue,
} from '../store/attributes.js';
import { INPUT_EXTRA_COLUMNS, SKIP, type RollupNames } from '../store/rollupSchema.js';
import { qualified, spanPrefixes, type StoreNames } from '../store/schema.js';
import { INGEST_SETTINGS_SQL } from '../store/aggregates.js';
import type { AttributeOverrideColumn, AttributeOverrides, ModelPrice } from './types.js';

export interface PassWindow {
  /** Runs whose span ended in [fromMs, toMs). */
  readonly fromMs: number;
  readonly toMs: number;
  /** How long a run may last: spans are read from fromMs - lookbackMs to toMs + lookbackMs. */
  readonly lookbackMs: number;
}

export interface BuiltQuery {
  readonly sql: string;
  readonly params: Record<string, unknown>;
}

/** Pointer-jumping rounds: agents nested up to 2^8 = 256 spans deep are found. */
const JUMPS = 8;

const KIND = { other: 0, agent: 1, tool: 2, model: 3 } as const;
const POLICY = { none: 0, allow: 1, deny: 2, escalate: 3 } as const;
/** `tool.side_effect_type` values that are not side effects. */
const NO_SIDE_EFFECT = ['none', 'read_only'];

const ms = (name: string) => `fromUnixTimestamp64Milli({${name}:Int64}, 'UTC')`;
const FROM = ms('from_ms');
const TO = ms('to_ms');
const LO = ms('lo_ms');
const HI = ms('hi_ms');
/** A span's end in ns since the epoch, against the window's bounds in ms. */
const SPAN_END_NS = 'toUnixTimestamp64Nano(Timestamp) + toInt64(Duration)';

function windowParams(w: PassWindow): Record<string, number> {
  return { from_ms: w.fromMs, to_ms: w.toMs, lo_ms: w.fromMs - w.lookbackMs, hi_ms: w.toMs + w.lookbackMs };
}

interface SpanField {
  readonly name: string;
  readonly expr: string;
}

/**
 * Stage 1 in three layers, so that each attribute is looked up and each number parsed once, and the
 * query stays small (aliases used twice in one SELECT are copied into each use):
 *   read   - from otel_traces: ids, times, status, operation, and every attribute read, as columns
 *   parse  - the span's kind, and each number with whether it was unreadable
 *   fields - what the span contributes (the names stage 2 packs into a tuple)
 */
class SpanLayers {
  private readonly reads = new Map<string, string>();
  private readonly parses: SpanField[] = [];

  /** A span attribute, as a column of the read layer. */
  attr(key: string): string {
    return this.read(attr(key));
  }

  /** A resource attribute, as a column of the read layer. */
  res(key: string): string {
    return this.read(res(key));
  }

  /** Any expression over otel_traces columns, as a column of the read layer. */
  column(expr: string): string {
    return this.read(expr);
  }

  private read(expr: string): string {
    let name = this.reads.get(expr);
    if (name === undefined) {
      name = `r${this.reads.size}`;
      this.reads.set(expr, name);
    }
    return name;
  }

  /** A number (from read-layer columns), as two columns of the parse layer: its value and whether it was unreadable. */
  num(name: string, expr: string, type: 'Float64' | 'UInt64'): ReadValue {
    const v = num(expr, type);
    this.parses.push({ name: `${name}_value`, expr: v.value }, { name: `${name}_bad`, expr: `toUInt8(${v.bad})` });
    return { value: `${name}_value`, bad: `${name}_bad` };
  }

  readSql(traces: string, where: string): string {
    const columns = [
      'TraceId',
      'SpanId',
      'ParentSpanId',
      'SpanName',
      'Timestamp',
      'Duration',
      'ServiceName',
      `${SPAN_END_NS} AS end_ns`,
      `toUInt8(${SPAN_FAILED}) AS failed`,
      `toUInt8(${ROOT_SUMMARY}) AS summary`,
      `${OPERATION} AS op`,
      `if(startsWith(SpanName, 'execute_tool '), trimBoth(substring(SpanName, 14)), '') AS tool_in_name`,
      ...[...this.reads].map(([expr, name]) => `${expr} AS ${name}`),
    ];
    return `SELECT ${columns.join(',\n    ')}
FROM ${traces}
PREWHERE ${where}
-- the exporter retries failed batches: a span may be stored twice
LIMIT 1 BY TraceId, SpanId`;
  }

  parseSql(from: string): string {
    const kind = `multiIf(op IN (${AGENT_OPERATIONS.map((o) => `'${o}'`).join(', ')}), ${KIND.agent}, op = '${TOOL_OPERATION}', ${KIND.tool}, op IN (${MODEL_OPERATIONS.map((o) => `'${o}'`).join(', ')}), ${KIND.model}, ${KIND.other})`;
    return `SELECT *, ${kind} AS kind, ${this.parses.map((p) => `${p.expr} AS ${p.name}`).join(',\n    ')}
FROM (${from})`;
  }
}

/** (name, value) pairs of scores, before their mean per name. */
const PAIRS = 'Array(Tuple(String, Float64))';

/** Only for spans of one kind ('' / 0 for the others), so the per-trace arrays stay small. */
const onlyFor = (kind: number, expr: string, zero = "''") => `if(kind = ${kind}, ${expr}, ${zero})`;

/** What one span contributes (stage 1); the names are used again in stages 3 and 4. */
function spanFields(L: SpanLayers, overrides: AttributeOverrides = {}): SpanField[] {
  // OpenLLMetry's LangChain spans put the run's UUID in gen_ai.agent.id: with a name beside it, an id
  // that is a UUID names one run, not the agent, and the name is the agent's.
  const stableAgentId = `if(match(${L.attr('gen_ai.agent.id')}, '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$') AND ${L.attr('gen_ai.agent.name')} != '', '', ${L.attr('gen_ai.agent.id')})`;
  // A column's attributes from rollup.attributes first, then the built-in ones.
  const own = (column: AttributeOverrideColumn, ...builtIn: string[]) => firstOf(...(overrides[column] ?? []).map((k) => L.attr(k)), ...builtIn);
  const toolCost = L.num('tool_cost', L.attr('tool.cost_usd'), 'Float64');
  const fees = L.num('fees', L.attr('tool.payment_fees_usd'), 'Float64');
  // Token counts under each family's names: GenAI (and OpenLLMetry's older prompt/completion), OpenInference, the Vercel AI SDK (v5 and v4).
  const inTok = L.num('in_tok', firstOf(L.attr('gen_ai.usage.input_tokens'), L.attr('gen_ai.usage.prompt_tokens'), L.attr('llm.token_count.prompt'), L.attr('ai.usage.inputTokens'), L.attr('ai.usage.promptTokens')), 'UInt64');
  const outTok = L.num('out_tok', firstOf(L.attr('gen_ai.usage.output_tokens'), L.attr('gen_ai.usage.completion_tokens'), L.attr('llm.token_count.completion'), L.attr('ai.usage.outputTokens'), L.attr('ai.usage.completionTokens')), 'UInt64');
  const cacheTok = L.num(
    'cache_tok',
    firstOf(L.attr('gen_ai.usage.cache_read.input_tokens'), L.attr('gen_ai.usage.cache_read_input_tokens'), L.attr('llm.token_count.prompt_details.cache_read'), L.attr('ai.usage.inputTokenDetails.cacheReadTokens'), L.attr('ai.usage.cachedInputTokens')),
    'UInt64',
  );
  // Tokens written to a prompt cache, counted inside the input tokens like cache reads (GenAI, OpenInference, the Vercel AI SDK).
  const cacheWriteTok = L.num(
    'cache_write_tok',
    firstOf(L.attr('gen_ai.usage.cache_creation.input_tokens'), L.attr('llm.token_count.prompt_details.cache_write'), L.attr('ai.usage.inputTokenDetails.cacheWriteTokens')),
    'UInt64',
  );
  const costAttr = L.num('cost', L.attr('gen_ai.usage.cost'), 'Float64');
  const decision = `lower(trimBoth(${L.attr('policy_decision')}))`;
  const policy = `multiIf(${decision} = 'allow', ${POLICY.allow}, ${decision} = 'deny', ${POLICY.deny}, ${decision} = 'escalate', ${POLICY.escalate}, ${POLICY.none})`;
  const requestModel = firstOf(L.attr('gen_ai.request.model'), L.attr('llm.model_name'), L.attr('ai.model.id'));
  const responseModel = L.attr('gen_ai.response.model');
  // The Vercel AI SDK writes the provider as `openai.chat` (gen_ai.system, ai.model.provider): its first part names it.
  const vercelProvider = `splitByChar('.', ${firstOf(L.attr('ai.model.provider'), L.attr('gen_ai.system'))})[1]`;
  const provider = `if(startsWith(SpanName, 'ai.'), ${vercelProvider}, ${firstOf(L.attr('gen_ai.provider.name'), L.attr('gen_ai.system'), L.attr('llm.provider'), L.attr('llm.system'))})`;
  // The price table's row for the model: the requested model's name, else the one that answered.
  const pidx = `if(indexOf({p_models:Array(String)}, ${requestModel}) > 0, indexOf({p_models:Array(String)}, ${requestModel}), indexOf({p_models:Array(String)}, ${responseModel}))`;
  const hasCost = `(${L.attr('gen_ai.usage.cost')} != '' AND ${costAttr.bad} = 0)`;
  const cache = `least(${cacheTok.value}, ${inTok.value})`;
  const cacheWrite = `least(${cacheWriteTok.value}, ${inTok.value} - ${cache})`;
  const priced = `((${inTok.value} - ${cache} - ${cacheWrite}) * {p_in:Array(Float64)}[${pidx}] + ${cache} * {p_cache:Array(Float64)}[${pidx}] + ${cacheWrite} * {p_cache_write:Array(Float64)}[${pidx}] + ${outTok.value} * {p_out:Array(Float64)}[${pidx}]) / 1e6`;
  const sideEffect = L.attr('tool.side_effect_type');
  // Evaluation events on any span; the run span's own scores, metrics and attributes (JSON forms and,
  // under the configured prefixes, bound as parameters, one attribute each).
  const evals = evaluationScores();
  const runScores = scoresJson(L.attr('agent.run.scores'));
  const runMetrics = metricsMap('{metric_prefix:String}', L.attr('agent.run.metrics'));
  const runAttributes = attributesMap('{attr_prefix:String}', L.attr('agent.run.attributes'));
  // Unreadable values, counted on the kind of span they matter on.
  const badOn = (kind: number, xs: readonly ReadValue[]) => `if(kind = ${kind}, ${xs.map((x) => x.bad).join(' + ')}, 0)`;
  const malformed = [
    badOn(KIND.tool, [toolCost, fees]),
    badOn(KIND.model, [inTok, outTok, cacheTok, cacheWriteTok, costAttr]),
    badOn(KIND.agent, [inTok, outTok]),
    `toUInt8(${decision} != '' AND policy = ${POLICY.none})`,
    L.column(evals.bad),
  ].join(' + ');
  return [
    { name: 'span', expr: 'SpanId' },
    { name: 'parent', expr: 'ParentSpanId' },
    { name: 'kind', expr: 'kind' },
    { name: 'ts', expr: 'Timestamp' },
    { name: 'end_ns', expr: 'end_ns' },
    { name: 'dur', expr: 'Duration' },
    { name: 'failed', expr: 'failed' },
    { name: 'summary', expr: 'summary' },
    { name: 'policy', expr: policy },
    { name: 'policy_rule', expr: `if(policy IN (${POLICY.deny}, ${POLICY.escalate}), ${L.attr('policy_rule')}, '')` },
    { name: 'conv', expr: own('conversation_id', L.attr('gen_ai.conversation.id'), L.attr('session.id'), L.attr('traceloop.association.properties.session_id')) },
    { name: 'malformed', expr: `toUInt16(${malformed})` },
    // The agent (or workflow) span: the run's own attributes when it is the outermost.
    { name: 'is_workflow', expr: `toUInt8(kind = ${KIND.agent} AND op = 'invoke_workflow')` },
    // Pydantic AI (1.75 and later) names each agent call.
    { name: 'a_run_id', expr: onlyFor(KIND.agent, own('run_id', L.attr('agent.run_id'), L.attr('gen_ai.agent.call.id'))) },
    // The standalone GenAI conventions (v0.1.0) name a workflow by gen_ai.agent.name on its invoke_workflow span.
    // Other families: OpenLLMetry's workflow name, the Vercel AI SDK's functionId, Pydantic AI's agent_name,
    // OpenInference's agent.name or, on its AGENT/CHAIN spans, the span's name (LangGraph's graph, CrewAI's crew).
    {
      name: 'a_workflow',
      expr: onlyFor(
        KIND.agent,
        own('workflow_id', L.attr('agent.workflow_id'), L.attr('gen_ai.workflow.name'), L.attr('gen_ai.agent.name'), L.attr('traceloop.workflow.name'), L.attr('ai.telemetry.functionId'), L.attr('agent_name'), L.attr('agent.name'), `if(${L.attr('openinference.span.kind')} != '', SpanName, '')`),
      ),
    },
    // On a workflow span gen_ai.agent.name is the workflow's name, not an agent's: only its id counts.
    { name: 'a_agent', expr: onlyFor(KIND.agent, `if(op = 'invoke_workflow', ${own('agent_id', L.attr('gen_ai.agent.id'))}, ${own('agent_id', stableAgentId, L.attr('gen_ai.agent.name'), L.attr('agent.name'), L.attr('agent_name'), L.attr('ai.telemetry.functionId'), L.attr('traceloop.entity.name'), `if(${L.attr('openinference.span.kind')} = 'AGENT', SpanName, '')`)})`) },
    { name: 'a_version', expr: onlyFor(KIND.agent, L.attr('gen_ai.agent.version')) },
    // The app's tenant, also where the Vercel AI SDK's metadata and OpenLLMetry's association properties put it.
    {
      name: 'a_tenant',
      expr: onlyFor(KIND.agent, own('tenant_id', L.attr('agent.tenant_id'), L.res('agent.tenant_id'), L.attr('ai.telemetry.metadata.tenant_id'), L.attr('traceloop.association.properties.tenant_id'))),
    },
    { name: 'a_env', expr: onlyFor(KIND.agent, firstOf(L.res('deployment.environment.name'), L.res('deployment.environment'))) },
    { name: 'a_service', expr: onlyFor(KIND.agent, 'ServiceName') },
    { name: 'a_model', expr: onlyFor(KIND.agent, requestModel) },
    { name: 'a_provider', expr: onlyFor(KIND.agent, provider) },
    { name: 'a_prompt', expr: onlyFor(KIND.agent, own('prompt_version', L.attr('agent.prompt_version'))) },
    { name: 'a_policy', expr: onlyFor(KIND.agent, own('policy_version', L.attr('agent.policy_version'))) },
    { name: 'a_fingerprint', expr: onlyFor(KIND.agent, own('output_schema_fingerprint', L.attr('agent.output_schema_fingerprint'))) },
    { name: 'a_in', expr: onlyFor(KIND.agent, inTok.value, '0') },
    { name: 'a_out', expr: onlyFor(KIND.agent, outTok.value, '0') },
    { name: 'a_scores', expr: onlyFor(KIND.agent, L.column(runScores.value), `CAST([], '${PAIRS}')`) },
    { name: 'a_metrics', expr: onlyFor(KIND.agent, L.column(runMetrics.value), `CAST(map(), 'Map(LowCardinality(String), Float64)')`) },
    { name: 'a_attrs', expr: onlyFor(KIND.agent, L.column(runAttributes.value), `CAST(map(), 'Map(LowCardinality(String), String)')`) },
    // Unreadable values of the run span's own: counted for the outermost agent only (stage 4).
    { name: 'a_bad', expr: onlyFor(KIND.agent, `toUInt16(${[runScores, runMetrics, runAttributes].map((x) => L.column(x.bad)).join(' + ')})`, 'toUInt16(0)') },
    { name: 'evals', expr: L.column(evals.value) },
    // execute_tool spans: the tool's name, else the `execute_tool <name>` span name.
    // Other families: OpenInference's tool.name, the Vercel AI SDK's ai.toolCall.name, OpenLLMetry's entity name.
    { name: 'tool', expr: onlyFor(KIND.tool, firstOf(L.attr('gen_ai.tool.name'), L.attr('tool.name'), L.attr('ai.toolCall.name'), L.attr('traceloop.entity.name'), 'tool_in_name', `'(unnamed)'`)) },
    // The call's id (GenAI, the Vercel AI SDK, OpenInference): attempts of one call id are one call.
    { name: 'call_id', expr: onlyFor(KIND.tool, firstOf(L.attr('gen_ai.tool.call.id'), L.attr('ai.toolCall.id'), L.attr('tool_call.id'))) },
    { name: 'tool_cost', expr: onlyFor(KIND.tool, `${toolCost.value} + ${fees.value}`, '0.') },
    { name: 'side_effect', expr: onlyFor(KIND.tool, `if(lower(${sideEffect}) IN (${NO_SIDE_EFFECT.map((x) => `'${x}'`).join(', ')}), '', ${sideEffect})`) },
    // Model spans: tokens, and their cost (the span's own, else from the price table).
    { name: 'model', expr: onlyFor(KIND.model, firstOf(requestModel, responseModel)) },
    { name: 'provider', expr: onlyFor(KIND.model, provider) },
    { name: 'in_tok', expr: onlyFor(KIND.model, inTok.value, '0') },
    { name: 'out_tok', expr: onlyFor(KIND.model, outTok.value, '0') },
    { name: 'token_cost', expr: onlyFor(KIND.model, `if(${hasCost}, ${costAttr.value}, ${priced})`, '0.') },
    { name: 'unpriced', expr: `toUInt8(kind = ${KIND.model} AND NOT ${hasCost} AND ${pidx} = 0 AND ${inTok.value} + ${outTok.value} > 0)` },
  ];
}

/** The most frequent name in an array of names ('' when empty); ties go to the smallest name. */
const mostFrequent = (a: string) => `arraySort(x -> (-countEqual(${a}, x), x), arrayDistinct(${a}))[1]`;
/** An array of names -> Map(name, how often). */
const counts = (a: string) =>
  `CAST(mapFromArrays(arrayDistinct(${a}), arrayMap(x -> toUInt32(countEqual(${a}, x)), arrayDistinct(${a}))), 'Map(LowCardinality(String), UInt32)')`;

/**
 * INSERT INTO <input> SELECT: one row per (trace, outermost run) of every trace that has an agent span
 * ending in the window, plus one per trace for its spans outside any run; `skip` says which rows
 * agent_runs gets (see SKIP).
 */
export function passInsertSql(n: StoreNames, r: RollupNames, w: PassWindow, passId: string, prices: readonly ModelPrice[], overrides: AttributeOverrides = {}): BuiltQuery {
  const prefixes = spanPrefixes(n);
  const traces = qualified(n.database, n.otelTraces);
  const runs = qualified(n.database, n.agentRuns);
  const inputColumns = [...AGENT_RUNS_COLUMNS.map((c) => c.name), ...INPUT_EXTRA_COLUMNS.map(([c]) => c)];

  // Without agent.run_id: the trace id and the run span's id (a trace may hold several runs).
  const runId = firstOf('r_run_id', `concat(trace, '-', run_span)`);
  const output: Record<string, string> = {
    timestamp: 'run_ts',
    trace_id: 'trace',
    run_id: runId,
    workflow_id: 'r_workflow',
    agent_id: `if(r_agent = '', inner_agent, r_agent)`,
    agent_version: `if(r_version = '' AND r_agent = '', inner_version, r_version)`,
    tenant_id: 'r_tenant',
    environment: 'r_env',
    service_name: 'r_service',
    model: firstOf('r_model', mostFrequent('models')),
    prompt_version: 'r_prompt',
    policy_version: 'r_policy',
    outcome: `if(run_failed, 'error', 'success')`,
    duration_ms: 'run_dur / 1e6',
    // The model spans' tokens; an agent without model spans below it may carry its own.
    input_tokens: 'if(model_spans = 0, r_in, model_in)',
    output_tokens: 'if(model_spans = 0, r_out, model_out)',
    token_cost_usd: 'token_cost_sum',
    tool_cost_usd: 'tool_cost_sum',
    tool_calls: counts('tool_names'),
    side_effects: counts('side_effect_names'),
    policy_allows: 'toUInt32(allows)',
    policy_denials: 'toUInt32(denials)',
    policy_escalations: 'toUInt32(escalations)',
    denied_rules: `CAST(denied, 'Array(LowCardinality(String))')`,
    output_schema_fingerprint: 'r_fingerprint',
    malformed_fields: 'toUInt8(least(malformed_sum + r_bad, 255))',
    // The model spans' provider first: an agent span may name its framework there (OpenLLMetry's LangGraph says langgraph).
    provider: firstOf(mostFrequent('providers'), 'r_provider'),
    conversation_id: firstOf('run_conv', 'any_conv'),
    tool_errors: counts('failed_tool_names'),
    // Evaluation events anywhere in the run (and, in a trace with one run, outside it: an HTTP root's),
    // with the run span's agent.run.scores; several of one name give their mean.
    scores: meanByName(`arrayConcat(r_scores, eval_pairs)`),
    metrics: 'r_metrics',
    attributes: 'r_attrs',
    pass_id: '{pass:String}',
    skip: `multiIf(
        run = 0, '${SKIP.outsideRun}',
        run_end_ns < {from_ms:Int64} * 1000000 OR run_end_ns >= {to_ms:Int64} * 1000000, '${SKIP.otherInterval}',
        trace_summarized = 1, '${SKIP.summarizedOnRoot}',
        (trace, ${runId}) IN (
            SELECT trace_id, run_id FROM ${runs}
            WHERE timestamp >= ${LO} AND timestamp < ${TO} AND trace_id IN (${candidateTracesSql(traces)})), '${SKIP.alreadyPresent}',
        '${SKIP.written}')`,
    spans: 'toUInt32(spans_in_group)',
    nested_agents: 'toUInt32(nested)',
    unpriced_model_calls: 'toUInt32(unpriced_calls)',
  };
  const select = inputColumns.map((c) => {
    const expr = output[c];
    if (expr === undefined) throw new Error(`rollup: no expression for input column ${c}`);
    return `    ${expr} AS \`${c}\``;
  });

  // Stage 1: the spans of every trace with an agent span ending in the window, read once.
  const L = new SpanLayers();
  const fields = spanFields(L, overrides);
  const read = L.readSql(traces, `Timestamp >= ${LO} AND Timestamp < ${HI} AND TraceId IN (${candidateTracesSql(traces)})`);
  const spansSql = `SELECT TraceId AS trace, summary AS sp_summary, ${fields.map((f) => (f.expr === f.name ? f.name : `${f.expr} AS ${f.name}`)).join(',\n    ')}
FROM (${L.parseSql(read)})`;
  const tupleOf = fields.map((f) => f.name).join(', ');
  /** Position of a field in the per-span tuple. */
  const pos = (name: string) => fields.findIndex((f) => f.name === name) + 1;
  const spanColumns = fields.map((f) => `sp_field.${pos(f.name)} AS ${f.name}`).join(', ');
  // Stage 2: per trace, the spans as an array of tuples, each span's parent index (up0) and, for
  // agent spans, itself as the outermost agent found so far (top0); then JUMPS rounds of pointer
  // jumping, one subquery each (as aliases in one SELECT, the rounds would be inlined into each other).
  const range = 'range(1, length(sp) + 1)';
  let treeSql = `SELECT
    trace,
    max(sp_summary) AS summarized,
    groupArray((${tupleOf})) AS sp,
    arrayEnumerateDense(arrayConcat(arrayMap(x -> x.${pos('span')}, sp), arrayMap(x -> x.${pos('parent')}, sp))) AS dense,
    arrayMap(i -> if(dense[length(sp) + i] <= length(sp), dense[length(sp) + i], 0), ${range}) AS up0,
    arrayMap(i -> if(sp[i].${pos('kind')} = ${KIND.agent}, i, 0), ${range}) AS top0
FROM (${spansSql})
GROUP BY trace`;
  for (let k = 0; k < JUMPS; k++) {
    treeSql = `SELECT trace, summarized, sp,
    arrayMap(i -> up${k}[up${k}[i]], ${range}) AS up${k + 1},
    arrayMap(i -> if(top${k}[up${k}[i]] != 0, top${k}[up${k}[i]], top${k}[i]), ${range}) AS top${k + 1}
FROM (${treeSql})`;
  }

  const sql = `INSERT INTO ${qualified(r.database, r.input)} (${inputColumns.map((c) => `\`${c}\``).join(', ')})
SELECT
${select.join(',\n')}
FROM (
    -- stage 4: one row per (trace, outermost agent span); run = 0 gathers the spans outside any run
    SELECT
        trace,
        run,
        any(summarized) AS trace_summarized,
        count() AS spans_in_group,
        anyIf(span, is_run) AS run_span,
        anyIf(ts, is_run) AS run_ts,
        anyIf(end_ns, is_run) AS run_end_ns,
        anyIf(dur, is_run) AS run_dur,
        anyIf(failed, is_run) AS run_failed,
        anyIf(conv, is_run) AS run_conv,
        minIf(conv, conv != '') AS any_conv,
        ${['a_run_id', 'a_workflow', 'a_agent', 'a_version', 'a_tenant', 'a_env', 'a_service', 'a_model', 'a_provider', 'a_prompt', 'a_policy', 'a_fingerprint', 'a_in', 'a_out', 'a_scores', 'a_metrics', 'a_attrs', 'a_bad']
          .map((f) => `anyIf(${f}, is_run) AS r_${f.slice(2)}`)
          .join(',\n        ')},
        countIf(kind = ${KIND.agent} AND NOT is_run) AS nested,
        -- a workflow names no agent of its own: the first agent it invoked does
        argMinIf(a_agent, (ts, span), kind = ${KIND.agent} AND NOT is_run AND a_agent != '') AS inner_agent,
        argMinIf(a_version, (ts, span), kind = ${KIND.agent} AND NOT is_run AND a_agent != '') AS inner_version,
        -- tool calls in time order: (name, call id, failed); a call id's attempts (a retry of the same
        -- call) count once, as its last attempt went; calls without an id count one per span
        arrayMap(x -> (x.2, x.3, x.4), arraySort(x -> (x.1, x.3), groupArrayIf((ts, tool, call_id, failed), kind = ${KIND.tool}))) AS tool_attempts,
        arrayFilter((x, i) -> x.2 = '' OR NOT has(arrayMap(y -> y.2, arraySlice(tool_attempts, i + 1)), x.2), tool_attempts, arrayEnumerate(tool_attempts)) AS tool_calls_once,
        arrayMap(x -> x.1, tool_calls_once) AS tool_names,
        arrayMap(x -> x.1, arrayFilter(x -> x.3 = 1, tool_calls_once)) AS failed_tool_names,
        groupArrayIf(side_effect, kind = ${KIND.tool} AND side_effect != '') AS side_effect_names,
        sumIf(tool_cost, kind = ${KIND.tool}) AS tool_cost_sum,
        groupArrayIf(model, kind = ${KIND.model} AND model != '') AS models,
        groupArrayIf(provider, kind = ${KIND.model} AND provider != '') AS providers,
        countIf(kind = ${KIND.model}) AS model_spans,
        sumIf(in_tok, kind = ${KIND.model}) AS model_in,
        sumIf(out_tok, kind = ${KIND.model}) AS model_out,
        sumIf(token_cost, kind = ${KIND.model}) AS token_cost_sum,
        sum(unpriced) AS unpriced_calls,
        countIf(policy = ${POLICY.allow}) AS allows,
        countIf(policy = ${POLICY.deny}) AS denials,
        countIf(policy = ${POLICY.escalate}) AS escalations,
        arraySort(groupArrayIf(policy_rule, policy_rule != '')) AS denied,
        sum(malformed) AS malformed_sum,
        arrayConcat(arrayFlatten(groupArray(evals)), any(if(runs_in_trace = 1, outside_evals, CAST([], '${PAIRS}')))) AS eval_pairs
    FROM (
        -- stage 3: one row per span again, with the index of its run's span
        SELECT trace, summarized, run, idx = run AS is_run, runs_in_trace, outside_evals, ${spanColumns}
        FROM (
            SELECT *,
                length(arrayDistinct(arrayFilter(x -> x != 0, top${JUMPS}))) AS runs_in_trace,
                arrayFlatten(arrayMap(i -> if(top${JUMPS}[i] = 0, sp[i].${pos('evals')}, CAST([], '${PAIRS}')), ${range})) AS outside_evals
            FROM (
${treeSql}
            )
        )
        ARRAY JOIN sp AS sp_field, top${JUMPS} AS run, arrayEnumerate(sp) AS idx
    )
    GROUP BY trace, run
)
${INGEST_SETTINGS_SQL}`;
  return { sql, params: { ...windowParams(w), pass: passId, ...priceParams(prices), attr_prefix: prefixParam(prefixes.attributes), metric_prefix: prefixParam(prefixes.metrics) } };
}

/** Bound, yet checked like the view's (which embeds them): one rule for both paths. */
function prefixParam(prefix: string): string {
  prefixLiteral(prefix);
  return prefix;
}

function priceParams(prices: readonly ModelPrice[]): Record<string, unknown> {
  return {
    p_models: prices.map((p) => p.model),
    p_in: prices.map((p) => p.inputPerMillion),
    p_out: prices.map((p) => p.outputPerMillion),
    p_cache: prices.map((p) => p.cacheReadPerMillion ?? p.inputPerMillion),
    p_cache_write: prices.map((p) => p.cacheWritePerMillion ?? p.inputPerMillion),
  };
}

/**
 * The traces with an agent span that ended in the window. The cheap columns go first (PREWHERE), so
 * the attribute map is read only near spans that end in the window.
 */
function candidateTracesSql(traces: string): string {
  return `SELECT TraceId FROM ${traces}
        PREWHERE ${AGENT_SPANS_ENDING}
        WHERE ${operationIn(AGENT_OPERATIONS)} AND NOT ${ROOT_SUMMARY}`;
}

const AGENT_SPANS_ENDING = `Timestamp >= ${LO} AND Timestamp < ${TO}
            AND ${SPAN_END_NS} >= {from_ms:Int64} * 1000000 AND ${SPAN_END_NS} < {to_ms:Int64} * 1000000`;

/**
 * The agent spans that end in the window: `agents` to roll up (a pass with none skips the INSERT,
 * whose planning costs more than this check), and `summarized` root spans (the view's runs, counted
 * as skipped here and never read by the pass).
 */
export function agentSpansEndingSql(n: StoreNames, w: PassWindow): BuiltQuery {
  const sql = `SELECT countIf(NOT is_summary) AS agents, countIf(is_summary) AS summarized
FROM (
    SELECT ${ROOT_SUMMARY} AS is_summary FROM ${qualified(n.database, n.otelTraces)}
    PREWHERE ${AGENT_SPANS_ENDING}
    WHERE ${operationIn(AGENT_OPERATIONS)})`;
  return { sql, params: windowParams(w) };
}

/**
 * GenAI spans (tool and model calls) that started in the window in traces with no agent span at all
 * in reach: no run to roll them into. Non-zero means the instrumentation writes no invoke_agent /
 * invoke_workflow spans, or they arrive later than the rollup's lateness allows.
 */
export function spansWithoutRunSql(n: StoreNames, w: PassWindow): BuiltQuery {
  const traces = qualified(n.database, n.otelTraces);
  const genAiSpans = `SELECT TraceId FROM ${traces}
    PREWHERE Timestamp >= ${FROM} AND Timestamp < ${TO}
    WHERE ${OPERATION} = '${TOOL_OPERATION}' OR ${operationIn(MODEL_OPERATIONS)}`;
  const sql = `SELECT count() AS n
FROM (${genAiSpans})
WHERE TraceId NOT IN (
    SELECT TraceId FROM ${traces}
    PREWHERE Timestamp >= ${LO} AND Timestamp < ${HI} AND TraceId IN (${genAiSpans})
    WHERE ${operationIn(AGENT_OPERATIONS)})`;
  return { sql, params: windowParams(w) };
}
