// Synthetic agent_runs at any scale, generated inside ClickHouse (INSERT ... SELECT FROM numbers()),
// so 100M runs take minutes instead of hours of JSON. Every value is a hash of the run's number:
// the same size and end time always give the same rows. 20 workflows with 3-6 tools each, two
// environments, 50 tenants, runs spread evenly over the period in time order (as live ingest writes them), and four drifts in the last days (a tool's calls
// doubled, more denials, a dearer model, a new output fingerprint) so the rules have work to do.
// Since v3 every run also carries the columns of the signals of issue 24: failed tool calls
// (tool_errors, about 3% of calls), an evaluation score `helpfulness` on 30% of the runs (scores),
// a custom metric `records_processed` (metrics) and two custom attributes (attributes):
// `customer_tier` (4 values) and `region` (8 values), which `npm run bench` groups by.
export const GENERATOR_VERSION = 'bench-generator v3';
/** The custom attributes the generator writes, with their number of values. */
export const GENERATED_ATTRIBUTES = { customer_tier: 4, region: 8 };
const DAY = 86_400_000;

/**
 * The default fleet: 20 workflows with 3-6 tools each, 50 tenants. `npm run bench:series` generates
 * larger ones ({ workflows, tools, tenants }: every workflow with `tools` tools of its own), with the
 * same drifts on the same workflow numbers.
 */
export const DEFAULT_FLEET = { workflows: 20, tools: null, tenants: 50 };

/** The SELECT producing runs number `from` .. `from + count - 1` of `total`, ending at `endMs`. */
export function runsSelect(from, count, total, endMs, days = 28, fleet = DEFAULT_FLEET) {
  const start = endMs - days * DAY;
  // u(k): uniform in [0, 1) from the run number and a salt.
  const u = (k) => `(cityHash64(number, ${k}) % 1000000) / 1000000.0`;
  return `
WITH
  -- In time order, as live ingest writes them: run n falls in the n-th slot of the period (at a
  -- random point inside it), so each insert's part covers a short stretch of time, as in production.
  toInt64(${start} + floor((number + ${u(1)}) * ${days * DAY} / ${total})) AS ts_ms,
  toUInt32(cityHash64(number, 2) % ${fleet.workflows}) AS wf,
  ${fleet.tools === null ? '3 + wf % 4' : fleet.tools} AS ntools,
  ts_ms > ${endMs - 4 * DAY} AS drifted,
  ${u(3)} AS r_env,
  ${u(5)} AS r_outcome
SELECT
  fromUnixTimestamp64Milli(ts_ms) AS timestamp,
  hex(cityHash64(number, 30)) AS trace_id,
  concat('run-', toString(number)) AS run_id,
  concat('wf_', toString(wf)) AS workflow_id,
  concat('agent_', toString(wf % 10)) AS agent_id,
  if(drifted AND wf = 3, '2.1.0', '2.0.0') AS agent_version,
  concat('tenant_', toString(cityHash64(number, 4) % ${fleet.tenants})) AS tenant_id,
  if(r_env < 0.8, 'prod', 'staging') AS environment,
  concat('svc_', toString(wf % 5)) AS service_name,
  if(drifted AND wf = 5, 'model-b', 'model-a') AS model,
  if(drifted AND wf = 1, 'p-v2', 'p-v1') AS prompt_version,
  'pol-1' AS policy_version,
  multiIf(r_outcome < 0.9 - if(drifted AND wf = 9, 0.15, 0), 'success', r_outcome < 0.97, 'failure', 'error') AS outcome,
  500 + ${u(6)} * 20000 AS duration_ms,
  toUInt64(200 + cityHash64(number, 7) % 4000) AS input_tokens,
  toUInt64(50 + cityHash64(number, 8) % 800) AS output_tokens,
  (0.001 + ${u(9)} * 0.01) * if(drifted AND wf = 5, 1.6, 1.0) AS token_cost_usd,
  if(${u(10)} < 0.3, ${u(11)} * 0.02, 0) AS tool_cost_usd,
  mapFilter((k, v) -> v > 0, mapFromArrays(
    arrayMap(i -> concat('tool_', toString(${fleet.tools === null ? '(wf * 3 + i) % 30' : 'i'})), range(ntools)),
    arrayMap(i -> toUInt32(cityHash64(number, 40 + i) % 3 + if(drifted AND wf = 1 AND i = 0, 2, 0)), range(ntools)))) AS tool_calls,
  toUInt32(cityHash64(number, 20) % 4) AS policy_allows,
  toUInt32(${u(21)} < if(drifted AND wf = 5, 0.12, 0.05)) AS policy_denials,
  toUInt32(${u(22)} < 0.02) AS policy_escalations,
  if(policy_denials + policy_escalations > 0, [concat('rule_', toString(cityHash64(number, 23) % 5))], []) AS denied_rules,
  if(drifted AND wf = 7 AND ${u(24)} < 0.3, 'fp_new', concat('fp_', toString(wf), '_', toString(cityHash64(number, 25) % 3))) AS output_schema_fingerprint,
  mapFilter((k, v) -> v > 0, mapApply((k, c) -> (k, toUInt32(c > 0 AND cityHash64(number, 60, k) % 100 < 3)), tool_calls)) AS tool_errors,
  mapFromArrays(if(${u(50)} < 0.3, ['helpfulness'], []), if(${u(50)} < 0.3, [0.5 + ${u(51)} * 0.5], [])) AS scores,
  map('records_processed', toFloat64(10 + cityHash64(number, 52) % 90)) AS metrics,
  map('customer_tier', ['free', 'pro', 'team', 'enterprise'][1 + cityHash64(number, 53) % 4], 'region', concat('region-', toString(cityHash64(number, 54) % 8))) AS attributes
FROM numbers(${from}, ${count})`;
}

export const GENERATED_COLUMNS = [
  'timestamp', 'trace_id', 'run_id', 'workflow_id', 'agent_id', 'agent_version', 'tenant_id', 'environment', 'service_name', 'model',
  'prompt_version', 'policy_version', 'outcome', 'duration_ms', 'input_tokens', 'output_tokens', 'token_cost_usd', 'tool_cost_usd',
  'tool_calls', 'policy_allows', 'policy_denials', 'policy_escalations', 'denied_rules', 'output_schema_fingerprint',
  'tool_errors', 'scores', 'metrics', 'attributes',
];

/** Inserts `total` runs over `days` days in chunks, calling onProgress(done, total); `settings`: a SETTINGS clause for the INSERT. */
export async function generateRuns(ch, table, total, endMs, onProgress = () => undefined, chunk = 5_000_000, days = 28, settings = '', fleet = DEFAULT_FLEET) {
  for (let from = 0; from < total; from += chunk) {
    const count = Math.min(chunk, total - from);
    await ch.command(`INSERT INTO ${table} (${GENERATED_COLUMNS.join(', ')}) SELECT * FROM (${runsSelect(from, count, total, endMs, days, fleet)})${settings ? `\n${settings}` : ''}`);
    onProgress(from + count, total);
  }
}
