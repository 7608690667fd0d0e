/**
 * SQL fragments that read the OpenTelemetry Collector ClickHouse exporter's span columns. Every
 * attribute value is a string there (`SpanAttributes`, `ResourceAttributes`: Map(String, String)).
 * Shared by the root-span view and the span rollup, so both read an attribute, a number, a status
 * word or a run summary the same way.
 *
 * Nothing built here may throw on odd data: an unreadable value becomes 0 / empty and a `bad`
 * expression says so, for the caller to count in malformed_fields. Attribute keys are constants of
 * this code base, checked before they are written into SQL.
 */

const KEY = /^[A-Za-z0-9_.]+$/;

/** The Vercel AI SDK calls that make a run (their `ai.operationId`, and span name). */
export const VERCEL_CALLS = ['ai.generateText', 'ai.streamText', 'ai.generateObject', 'ai.streamObject'] as const;

function key(k: string): string {
  if (!KEY.test(k)) throw new Error(`not an attribute key agentdrift reads: ${JSON.stringify(k)}`);
  return k;
}

/** A span attribute ('' when absent). */
export const spanAttr = (k: string): string => `SpanAttributes['${key(k)}']`;
/** A resource attribute ('' when absent). */
export const resourceAttr = (k: string): string => `ResourceAttributes['${key(k)}']`;

/** First non-empty of several string expressions. */
export const firstOf = (...xs: string[]): string => (xs.length === 1 ? xs[0]! : `if(${xs[0]} != '', ${xs[0]}, ${firstOf(...xs.slice(1))})`);

/** A value read from an attribute, and whether it was present but unreadable. */
export interface ReadValue {
  readonly value: string;
  readonly bad: string;
}

/** A non-negative number: unreadable, negative or non-finite text is 0 and `bad`. */
export function num(expr: string, type: 'Float64' | 'UInt64' | 'UInt32'): ReadValue {
  const parsed = `toFloat64OrNull(trimBoth(${expr}))`;
  const ok = `(${parsed} IS NOT NULL AND isFinite(assumeNotNull(${parsed})) AND assumeNotNull(${parsed}) >= 0)`;
  const value =
    type === 'Float64'
      ? `if(${ok}, assumeNotNull(${parsed}), 0.)`
      : `if(${ok}, to${type}(floor(assumeNotNull(${parsed}))), to${type}(0))`;
  return { value, bad: `(${expr} != '' AND NOT ${ok})` };
}

/** A JSON object of counts ({"tool": 2}) -> Map; bad when present and not a JSON object. */
export function countMap(expr: string): ReadValue {
  const isObj = `(isValidJSON(${expr}) AND JSONType(${expr}) = 'Object')`;
  const value = `CAST(if(${isObj}, mapFilter((k, v) -> v > 0, JSONExtract(${expr}, 'Map(String, UInt32)')), map()), 'Map(LowCardinality(String), UInt32)')`;
  return { value, bad: `(${expr} != '' AND NOT ${isObj})` };
}

/** A JSON array of strings; bad when present and not a JSON array. */
export function stringArray(expr: string): ReadValue {
  const isArr = `(isValidJSON(${expr}) AND JSONType(${expr}) = 'Array')`;
  const value = `CAST(if(${isArr}, JSONExtract(${expr}, 'Array(String)'), []), 'Array(LowCardinality(String))')`;
  return { value, bad: `(${expr} != '' AND NOT ${isArr})` };
}

/** Sum of the `bad` flags, as the UInt8 malformed_fields column holds it. */
export function badCount(values: readonly ReadValue[]): string {
  return values.map((x) => `toUInt8(${x.bad})`).join(' + ');
}

/** The exporter writes `Error`; older versions wrote the protobuf name `STATUS_CODE_ERROR`. */
export const STATUS_IS_ERROR = `StatusCode IN ('Error', 'STATUS_CODE_ERROR')`;

/** The span ended in error: its status, or `error.type` (the GenAI conventions' failure attribute). */
export const SPAN_FAILED = `(${STATUS_IS_ERROR} OR ${spanAttr('error.type')} != '')`;

/** The GenAI operations agentdrift tells apart (`gen_ai.operation.name`). */
export const AGENT_OPERATIONS = ['invoke_agent', 'invoke_workflow'] as const;
export const TOOL_OPERATION = 'execute_tool';
/** Calls of a model: their tokens and cost count (embeddings too: they are billed). */
export const MODEL_OPERATIONS = ['chat', 'generate_content', 'text_completion', 'embeddings'] as const;

const sqlList = (xs: readonly string[]) => xs.map((x) => `'${key(x)}'`).join(', ');
const KNOWN_OPERATIONS = sqlList([...AGENT_OPERATIONS, TOOL_OPERATION, ...MODEL_OPERATIONS]);

/** The GenAI operation a family's span-kind attribute means: one lookup of the attribute, '' for other values. */
function kindOf(attribute: string, operations: Readonly<Record<string, string>>): string {
  const [values, ops] = [Object.keys(operations), Object.values(operations)];
  return `transform(${spanAttr(attribute)}, [${sqlList(values)}], [${sqlList(ops)}], '')`;
}

/**
 * The operation other instrumentation families mean by their own span kinds and names, as a GenAI
 * operation (docs/design/trace-dialects-research.md has the sources): OpenInference's
 * `openinference.span.kind` (an AGENT is an agent; a CHAIN, which is how LangGraph and CrewAI
 * write a run's root, a workflow whose outermost one is the run), OpenLLMetry's
 * `traceloop.span.kind` and its model spans' `llm.request.type` (instrumentations before 0.55), the Vercel AI SDK's `ai.*` spans (a generateText/streamText/
 * generateObject/streamObject call is a run, `.doGenerate`/`.doStream` its model calls), and Pydantic
 * AI's older span names (`agent run`, `running tool`).
 */
const DIALECT_OPERATION = firstOf(
  kindOf('openinference.span.kind', { AGENT: 'invoke_agent', CHAIN: 'invoke_workflow', TOOL: 'execute_tool', LLM: 'chat', EMBEDDING: 'embeddings' }),
  kindOf('traceloop.span.kind', { workflow: 'invoke_workflow', agent: 'invoke_agent', tool: 'execute_tool' }),
  kindOf('llm.request.type', { chat: 'chat', completion: 'chat', embedding: 'embeddings' }),
  `multiIf(
    SpanName IN (${sqlList(VERCEL_CALLS)}), 'invoke_agent',
    SpanName = 'ai.toolCall', 'execute_tool',
    startsWith(SpanName, 'ai.') AND (endsWith(SpanName, '.doGenerate') OR endsWith(SpanName, '.doStream')), 'chat',
    startsWith(SpanName, 'ai.') AND endsWith(SpanName, '.doEmbed'), 'embeddings',
    SpanName = 'agent run', 'invoke_agent',
    SpanName = 'running tool', 'execute_tool',
    '')`,
);

/**
 * The span's GenAI operation: `gen_ai.operation.name`, else the first word of a span name the
 * conventions prescribe (`execute_tool get_weather`, `chat gpt-4.1`) when it is a known operation,
 * else what another family's span kind or name means (DIALECT_OPERATION).
 */
export const OPERATION = firstOf(
  // A Vercel AI SDK call is a run even where a wrapper stamped it `chat` (Traceloop's JS SDK tags both
  // ai.generateText and its .doGenerate child so, which would make the run a model call).
  `if(SpanName IN (${sqlList(VERCEL_CALLS)}) AND ${spanAttr('ai.operationId')} != '', 'invoke_agent', '')`,
  spanAttr('gen_ai.operation.name'),
  `if(splitByChar(' ', SpanName)[1] IN (${KNOWN_OPERATIONS}), splitByChar(' ', SpanName)[1], '')`,
  DIALECT_OPERATION,
);

/** `OPERATION IN (...)` for one group of operations. */
export const operationIn = (ops: readonly string[]): string => `${OPERATION} IN (${sqlList(ops)})`;

/**
 * A run summary on the trace's root: an `invoke_agent` root span carrying at least one attribute in
 * the `agent.run.*` namespace. The view turns such spans into rows; the rollup leaves their traces
 * alone, so no run is counted twice.
 */
export const ROOT_SUMMARY = `(ParentSpanId = '' AND ${spanAttr('gen_ai.operation.name')} = 'invoke_agent' AND arrayExists(k -> startsWith(k, 'agent.run.'), mapKeys(SpanAttributes)))`;

/**
 * How a traces table holds its attributes: the exporter's default Map(String, String) columns, or
 * JSON columns (its `json: true` mode). Every fragment above reads the Map form; the same query reads a
 * JSON-mode table once its accessors are rewritten (forAttributes). Only the accessors this module
 * writes are rewritten: `SpanAttributes['<key>']`, `ResourceAttributes['<key>']`, an event's
 * `EventAttributes['<key>']` (Events.Attributes is Array(JSON) there), `mapKeys(SpanAttributes)` and the
 * prefixed() form, with keys of KEY's characters, so nothing else in a query can match.
 * In a JSON column a value may be a number or absent: read as its text, absent as ''.
 */
export type AttributeColumns = 'map' | 'json';

const MAP_ACCESS = /\b(SpanAttributes|ResourceAttributes|EventAttributes)\['([A-Za-z0-9_.]+)'\]/g;

export function forAttributes(sql: string, columns: AttributeColumns, events = true): string {
  if (!events) {
    // A traces table without the exporter's Events columns: no span has events.
    sql = sql.replace(/\bEvents\.Name\b/g, "CAST([], 'Array(String)')").replace(/\bEvents\.Attributes\b/g, `CAST([], '${columns === 'map' ? 'Array(Map(String, String))' : 'Array(JSON)'}')`);
  }
  if (columns === 'map') return sql;
  return sql
    .replace(PREFIXED, (_, prefix: string) => prefixedJson(prefix))
    .replace(MAP_ACCESS, (_, column: string, k: string) => `ifNull(toString(getSubcolumn(${column}, '${key(k)}')), '')`)
    .replace(/mapKeys\(SpanAttributes\)/g, 'JSONAllPaths(SpanAttributes)');
}

// --- scores, custom metrics and custom dimensions ----------------------------------------------

/**
 * Where a run's custom dimensions and metrics sit on its root span: every attribute under a prefix
 * (`agent.attributes.tier` -> `attributes['tier']`). Prefixes come from configuration
 * (`rollup.attribute_prefix`, `rollup.metric_prefix`) and are written into the view's DDL, so they are
 * checked here before any SQL is built: OpenTelemetry attribute-name characters, ending with a dot.
 */
export interface SpanPrefixes {
  readonly attributes: string;
  readonly metrics: string;
}

export const DEFAULT_SPAN_PREFIXES: SpanPrefixes = { attributes: 'agent.attributes.', metrics: 'agent.metrics.' };

export const SPAN_PREFIX = /^[A-Za-z0-9_.:/-]+\.$/;

/** A prefix as a SQL string literal; throws unless it passed SPAN_PREFIX (no quote or backslash can). */
export function prefixLiteral(prefix: string): string {
  if (!SPAN_PREFIX.test(prefix)) throw new Error(`not an attribute prefix agentdrift reads: ${JSON.stringify(prefix)}`);
  return `'${prefix}'`;
}

/** The span event of an OpenTelemetry GenAI evaluation, and the attributes of it agentdrift reads. */
export const EVALUATION_EVENT = 'gen_ai.evaluation.result';
export const EVALUATION_NAME = 'gen_ai.evaluation.name';
export const EVALUATION_SCORE = 'gen_ai.evaluation.score.value';

/** A real number (any sign), or NULL: finite values only. */
const realOrNull = (text: string) => `if(isFinite(ifNull(toFloat64OrNull(trimBoth(${text})), nan)), toFloat64OrNull(trimBoth(${text})), NULL)`;

/** A JSON value's text: a JSON string unquoted, anything else as written. */
const jsonText = (raw: string) => `if(JSONType(${raw}) = 'String', JSONExtractString(${raw}), ${raw})`;

/**
 * The span attributes under a prefix, key and value, as Map(String, String) with the prefix still on
 * the key. `prefix` is a SQL string: a checked literal (prefixLiteral) or a bound parameter. Written in
 * one form that forAttributes recognises and rewrites for JSON columns.
 */
export const prefixed = (prefix: string): string => `mapFilter((k, v) -> startsWith(k, ${prefix}), SpanAttributes)`;

/** prefixed()'s form, and the JSON columns' equivalent: each path under the prefix with its value's text. */
const PREFIXED = /mapFilter\(\(k, v\) -> startsWith\(k, ('[A-Za-z0-9_.:/-]+'|\{[a-z_]+:String\})\), SpanAttributes\)/g;
function prefixedJson(prefix: string): string {
  const paths = `arrayFilter(p -> startsWith(p, ${prefix}), JSONAllPaths(SpanAttributes))`;
  const value = jsonText(`arrayFold((acc, x) -> JSONExtractRaw(acc, x), splitByChar('.', p), toJSONString(SpanAttributes))`);
  return `mapFromArrays(${paths}, arrayMap(p -> ${value}, ${paths}))`;
}

/** The key of a prefixed attribute without its prefix. */
const unprefixed = (prefix: string) => `substring(k, length(${prefix}) + 1)`;

/** A JSON object's members as (key, value text) pairs ([] unless an object). */
const jsonMembers = (expr: string) =>
  `arrayMap(x -> (x.1, ${jsonText('x.2')}), if(isValidJSON(${expr}) AND JSONType(${expr}) = 'Object', JSONExtractKeysAndValuesRaw(${expr}), []))`;
const notObject = (expr: string) => `(${expr} != '' AND NOT (isValidJSON(${expr}) AND JSONType(${expr}) = 'Object'))`;

/**
 * `attributes`: the root span's attributes under `prefix` (prefix removed), over the members of the
 * JSON object `agent.run.attributes` for a key both name. Bad: the JSON form present and not an object.
 */
export function attributesMap(prefix: string, json: string): ReadValue {
  const fromJson = `mapFromArrays(arrayMap(x -> x.1, ${jsonMembers(json)}), arrayMap(x -> x.2, ${jsonMembers(json)}))`;
  const fromPrefix = `mapApply((k, v) -> (${unprefixed(prefix)}, v), ${prefixed(prefix)})`;
  const value = `CAST(mapFilter((k, v) -> k != '', mapUpdate(CAST(${fromJson}, 'Map(String, String)'), CAST(${fromPrefix}, 'Map(String, String)'))), 'Map(LowCardinality(String), String)')`;
  return { value, bad: notObject(json) };
}

/**
 * `metrics`: the root span's attributes under `prefix` read as numbers, over the members of the JSON
 * object `agent.run.metrics`. A value that is not a finite number is left out and counted: bad is a
 * count (one per unreadable metric, one for a JSON form that is not an object).
 */
export function metricsMap(prefix: string, json: string): ReadValue {
  const pairs = `arrayConcat(${jsonMembers(json)}, arrayMap((k, v) -> (${unprefixed(prefix)}, v), mapKeys(${prefixed(prefix)}), mapValues(${prefixed(prefix)})))`;
  const parsed = `arrayMap(x -> (x.1, ${realOrNull('x.2')}), ${pairs})`;
  const good = `arrayFilter(x -> x.1 != '' AND x.2 IS NOT NULL, ${parsed})`;
  const value = `CAST(mapFromArrays(arrayMap(x -> x.1, ${good}), arrayMap(x -> assumeNotNull(x.2), ${good})), 'Map(LowCardinality(String), Float64)')`;
  return { value, bad: `(length(${parsed}) - length(${good}) + ${notObject(json)})` };
}

/**
 * Scores as (name, value) pairs, before they are averaged per name (meanByName): the span's
 * `gen_ai.evaluation.result` events with a name and a numeric `gen_ai.evaluation.score.value` (an
 * event with only a label carries no score). Bad (a count): an event whose value is not a finite
 * number, or that has a value and no name. `EventAttributes` is the lambda's name for one event's
 * attributes, which forAttributes rewrites for JSON columns.
 */
export function evaluationScores(): ReadValue {
  const results = `arrayMap(EventAttributes -> (${eventAttr(EVALUATION_NAME)}, ${eventAttr(EVALUATION_SCORE)}), arrayFilter((EventAttributes, n) -> n = '${EVALUATION_EVENT}', Events.Attributes, Events.Name))`;
  const parsed = `arrayMap(x -> (x.1, ${realOrNull('x.2')}, x.2 != ''), ${results})`;
  const good = `arrayFilter(x -> x.1 != '' AND x.2 IS NOT NULL, ${parsed})`;
  const value = `CAST(arrayMap(x -> (x.1, assumeNotNull(x.2)), ${good}), 'Array(Tuple(String, Float64))')`;
  return { value, bad: `(length(arrayFilter(x -> x.3, ${parsed})) - length(${good}))` };
}

const eventAttr = (k: string) => `EventAttributes['${key(k)}']`;

/** The JSON object `agent.run.scores` ({"relevance": 0.9}) as (name, value) pairs; bad like metricsMap. */
export function scoresJson(json: string): ReadValue {
  const parsed = `arrayMap(x -> (x.1, ${realOrNull('x.2')}), ${jsonMembers(json)})`;
  const good = `arrayFilter(x -> x.1 != '' AND x.2 IS NOT NULL, ${parsed})`;
  const value = `CAST(arrayMap(x -> (x.1, assumeNotNull(x.2)), ${good}), 'Array(Tuple(String, Float64))')`;
  return { value, bad: `(length(${parsed}) - length(${good}) + ${notObject(json)})` };
}

/** (name, value) pairs -> the `scores` map: several values of one name give their mean. */
export function meanByName(pairs: string): string {
  const names = `arrayDistinct(arrayMap(x -> x.1, ${pairs}))`;
  return `CAST(mapFromArrays(${names}, arrayMap(n -> arrayAvg(arrayMap(x -> x.2, arrayFilter(x -> x.1 = n, ${pairs}))), ${names})), 'Map(LowCardinality(String), Float64)')`;
}
