/**
 * The span rollup end to end on embedded ClickHouse: traces built span by span exactly as the
 * OpenTelemetry Collector's ClickHouse exporter stores them (its own columns, every attribute a
 * string), inserted in the order they would arrive, rolled up by the daemon's RollupJob on a manual
 * clock, and every agent_runs row checked field by field against numbers worked out by hand below.
 *
 * The traces (T = 2026-11-20 10:00:00 UTC):
 *   A  invoke_agent under an HTTP root: two chat spans (one with the older gen_ai.system /
 *      prompt_tokens / completion_tokens names), a tool nested in a tool (arriving before its parent),
 *      a tool named only by its span name, a failed tool (status Error) and its retry, policy
 *      decisions, and one span stored twice (an exporter retry)
 *   B  invoke_workflow (v0.1.0 naming, old status word STATUS_CODE_ERROR) with two agents inside, one
 *      of which calls a third; a model span with its own cost, one priced from the table, one for a
 *      model without a price; an unreadable tool cost
 *   C  invoke_agent root without a summary, failing with error.type; its children arrive first and
 *      the run span last; one late span arrives inside the lateness allowance, one after it
 *   D  a root span carrying an agent.run.* summary (the view's row; the rollup must leave it alone)
 *   G  the same with an agent span inside (which brings the trace into a pass, to be skipped there)
 *   E  a chat span in a trace without any agent span
 *   F  an HTTP root with two agent runs side by side: two rows
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { RollupJob } from '../../src/rollup/job.js';
import { rollupRange, RollupUnavailableError } from '../../src/rollup/pass.js';
import type { RollupSettings } from '../../src/rollup/types.js';
import { migrate } from '../../src/store/migrate.js';
import { DEFAULT_NAMES, type StoreNames } from '../../src/store/schema.js';
import { jsonModeMessage } from '../../src/store/spanTable.js';
import { storeStatus } from '../../src/store/status.js';
import { ManualClock } from '../../src/util/clock.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { exportedSpan, type SpanSpec } from '../helpers/otelSpans.js';
import { createIngestProbe, ingestProbeRuns } from '../helpers/ingestProbe.js';

const T = Date.parse('2026-11-20T10:00:00Z');
const MIN = 60_000;

const SETTINGS: RollupSettings = {
  enabled: true,
  intervalMs: MIN,
  latenessMs: 10 * MIN,
  maxRunDurationMs: 60 * MIN,
  prices: [
    { model: 'gpt-4.1', inputPerMillion: 2, outputPerMillion: 8, cacheReadPerMillion: 0.5 },
    { model: 'claude-sonnet-4', inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: null },
  ],
};

const exported = (s: SpanSpec) => exportedSpan(T, s);

const tool = (name: string, extra: Record<string, string> = {}) => ({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, ...extra });

// --- A: invoke_agent under an HTTP root ------------------------------------------------------------
const A = 'a0000000000000000000000000000001';
const a = (n: number) => `a00000000000000${n.toString(16)}`;
const sa = { trace: A, service: 'support-svc' };
const A_SPANS = {
  http: { ...sa, id: a(1), name: 'POST /v1/support', kind: 'Server', start: 0, dur: 8, attrs: { 'http.request.method': 'POST', 'http.route': '/v1/support' } },
  agent: {
    ...sa, id: a(2), parent: a(1), name: 'invoke_agent support-bot', start: 0.1, dur: 7.5, status: 'Ok',
    attrs: {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support-bot', 'gen_ai.agent.id': 'agt-7', 'gen_ai.agent.version': '2.1.0',
      'gen_ai.request.model': 'gpt-4.1', 'gen_ai.provider.name': 'openai', 'agent.run_id': 'run-A', 'agent.workflow_id': 'support_triage',
      'agent.tenant_id': 'acme', 'agent.prompt_version': 'p-3', 'agent.policy_version': 'pol-2', 'agent.output_schema_fingerprint': 'fp-aa',
      'gen_ai.conversation.id': 'conv-1',
    },
  },
  // (1200 - 200) * 2 + 200 * 0.5 + 300 * 8 = 4500 micro-USD
  chat1: {
    ...sa, id: a(3), parent: a(2), name: 'chat gpt-4.1', kind: 'Client', start: 0.2, dur: 1,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.response.model': 'gpt-4.1-2025-04-14', 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': '1200', 'gen_ai.usage.output_tokens': '300', 'gen_ai.usage.cache_read.input_tokens': '200' },
  },
  kb: { ...sa, id: a(4), parent: a(2), name: 'execute_tool kb_search', start: 1.3, dur: 1, attrs: tool('kb_search', { policy_decision: 'allow', 'tool.side_effect_type': 'read_only' }) },
  // A tool inside a tool; stored before its parent arrives.
  crm: { ...sa, id: a(5), parent: a(4), name: 'execute_tool crm_lookup', start: 1.5, dur: 0.5, attrs: tool('crm_lookup', { 'tool.cost_usd': '0.005' }) },
  // No gen_ai.tool.name: the span name says which tool.
  ticket: {
    ...sa, id: a(6), parent: a(2), name: 'execute_tool ticket_update', start: 2.4, dur: 0.4,
    attrs: { 'gen_ai.operation.name': 'execute_tool', 'tool.cost_usd': '0.01', 'tool.payment_fees_usd': '0.002', 'tool.side_effect_type': 'ticket_updated', policy_decision: 'deny', policy_rule: 'no_refund_promise' },
  },
  payFailed: { ...sa, id: a(7), parent: a(2), name: 'execute_tool payment_api', start: 3, dur: 2, status: 'Error', message: 'timed out', attrs: tool('payment_api', { 'error.type': 'TimeoutError' }) },
  payRetry: {
    ...sa, id: a(8), parent: a(2), name: 'execute_tool payment_api', start: 5.1, dur: 0.8,
    attrs: tool('payment_api', { 'tool.cost_usd': '0.03', 'tool.side_effect_type': 'payment_processed', policy_decision: 'escalate', policy_rule: 'refund_limit' }),
  },
  // Older attribute names: 800 * 2 + 100 * 8 = 2400 micro-USD
  chat2: {
    ...sa, id: a(9), parent: a(2), name: 'chat gpt-4.1', kind: 'Client', start: 6, dur: 1.5,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.system': 'openai', 'gen_ai.usage.prompt_tokens': '800', 'gen_ai.usage.completion_tokens': '100' },
  },
} satisfies Record<string, SpanSpec>;

// --- B: a workflow with agents inside ---------------------------------------------------------------
const B = 'b0000000000000000000000000000001';
const b = (n: number) => `b00000000000000${n.toString(16)}`;
const sb = { trace: B, service: 'billing-svc', resource: { 'deployment.environment': 'staging' } };
const B_SPANS = {
  workflow: { ...sb, id: b(1), name: 'invoke_workflow invoice_pipeline', start: 60, dur: 20, status: 'STATUS_CODE_ERROR', message: 'step failed', attrs: { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.agent.name': 'invoice_pipeline' } },
  planner: { ...sb, id: b(2), parent: b(1), name: 'invoke_agent planner', start: 61, dur: 5, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner', 'gen_ai.agent.version': '1.0.0' } },
  // The span's own cost wins over the price table.
  plannerChat: {
    ...sb, id: b(3), parent: b(2), name: 'chat claude-sonnet-4', kind: 'Client', start: 61.5, dur: 2,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'claude-sonnet-4', 'gen_ai.provider.name': 'anthropic', 'gen_ai.usage.input_tokens': '500', 'gen_ai.usage.output_tokens': '50', 'gen_ai.usage.cost': '0.0123' },
  },
  plannerTool: { ...sb, id: b(4), parent: b(2), name: 'execute_tool lookup', start: 64, dur: 1, attrs: tool('lookup') },
  writer: { ...sb, id: b(5), parent: b(1), name: 'invoke_agent writer', start: 67, dur: 12, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'writer', 'gen_ai.agent.version': '3.0.0' } },
  // 700 * 3 + 200 * 15 = 5100 micro-USD
  writerChat: {
    ...sb, id: b(6), parent: b(5), name: 'chat claude-sonnet-4', kind: 'Client', start: 67.5, dur: 3,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'claude-sonnet-4', 'gen_ai.provider.name': 'anthropic', 'gen_ai.usage.input_tokens': '700', 'gen_ai.usage.output_tokens': '200' },
  },
  writerTool: { ...sb, id: b(7), parent: b(5), name: 'execute_tool write_record', start: 71, dur: 1, attrs: tool('write_record', { 'tool.side_effect_type': 'record_updated' }) },
  checker: { ...sb, id: b(8), parent: b(5), name: 'invoke_agent checker', start: 72.5, dur: 6, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'checker' } },
  checkerTool: { ...sb, id: b(9), parent: b(8), name: 'execute_tool validate', start: 73, dur: 1, attrs: tool('validate', { 'tool.cost_usd': 'n/a' }) },
  // No price in the table and no cost on the span: counted, costs 0.
  checkerChat: {
    ...sb, id: b(10), parent: b(8), name: 'chat mystery-model', kind: 'Client', start: 75, dur: 2,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'mystery-model', 'gen_ai.usage.input_tokens': '100', 'gen_ai.usage.output_tokens': '10' },
  },
} satisfies Record<string, SpanSpec>;

// --- C: the run span arrives last; late spans -------------------------------------------------------
const C = 'c0000000000000000000000000000001';
const c = (n: number) => `c00000000000000${n.toString(16)}`;
const sc = { trace: C, service: 'support-svc' };
const C_SPANS = {
  run: {
    ...sc, id: c(1), name: 'invoke_agent triage-bot', start: 120, dur: 30,
    attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage-bot', 'gen_ai.workflow.name': 'support_triage', 'gen_ai.request.model': 'gpt-4.1', 'error.type': 'RateLimitError' },
  },
  // 1000 * 2 + 100 * 8 = 2800 micro-USD
  chat: {
    ...sc, id: c(2), parent: c(1), name: 'chat gpt-4.1', kind: 'Client', start: 121, dur: 2,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': '1000', 'gen_ai.usage.output_tokens': '100' },
  },
  tool: { ...sc, id: c(3), parent: c(1), name: 'execute_tool kb_search', start: 124, dur: 1, attrs: tool('kb_search') },
  lateInside: { ...sc, id: c(4), parent: c(1), name: 'execute_tool kb_search', start: 126, dur: 1, attrs: tool('kb_search') },
  lateAfter: { ...sc, id: c(5), parent: c(1), name: 'execute_tool escalate_to_human', start: 140, dur: 1, attrs: tool('escalate_to_human', { 'tool.side_effect_type': 'ticket_escalated' }) },
} satisfies Record<string, SpanSpec>;

// --- D: summarized on its root (the view's row) -----------------------------------------------------
const D = 'd0000000000000000000000000000001';
const d = (n: number) => `d00000000000000${n.toString(16)}`;
const sd = { trace: D, service: 'billing-svc' };
const D_SPANS = {
  root: {
    ...sd, id: d(1), name: 'invoke_agent enricher', start: 150, dur: 4, status: 'Ok',
    attrs: {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': 'enricher', 'agent.run_id': 'run-D', 'agent.workflow_id': 'invoice_enrichment',
      'agent.run.outcome': 'success', 'agent.run.tool_calls': '{"enrich_company": 2}', 'agent.run.token_cost_usd': '0.02',
      'agent.run.input_tokens': '900', 'agent.run.output_tokens': '90',
    },
  },
  tool1: { ...sd, id: d(2), parent: d(1), name: 'execute_tool enrich_company', start: 151, dur: 1, attrs: tool('enrich_company', { 'tool.cost_usd': '0.02' }) },
  tool2: { ...sd, id: d(3), parent: d(1), name: 'execute_tool enrich_company', start: 152, dur: 1, attrs: tool('enrich_company', { 'tool.cost_usd': '0.02' }) },
} satisfies Record<string, SpanSpec>;

// --- G: summarized on its root, with an inner agent span ------------------------------------------
const G = 'd0000000000000000000000000000002';
const g = (n: number) => `d00000000000010${n.toString(16)}`;
const sg = { trace: G, service: 'misc-svc' };
const G_SPANS = {
  root: {
    ...sg, id: g(1), name: 'invoke_agent lead', start: 160, dur: 5, status: 'Ok',
    attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'lead', 'agent.run_id': 'run-G', 'agent.workflow_id': 'wf-g', 'agent.run.tool_calls': '{"x": 1}' },
  },
  inner: { ...sg, id: g(2), parent: g(1), name: 'invoke_agent helper', start: 161, dur: 3, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'helper' } },
  tool: { ...sg, id: g(3), parent: g(2), name: 'execute_tool x', start: 162, dur: 1, attrs: tool('x') },
} satisfies Record<string, SpanSpec>;

// --- E: a model call with no agent span in its trace -----------------------------------------------
const E = 'e0000000000000000000000000000001';
const E_SPANS = {
  chat: {
    trace: E, service: 'misc-svc', id: 'e000000000000001', parent: 'e0000000000000ff', name: 'chat gpt-4.1', kind: 'Client', start: 30, dur: 1,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.input_tokens': '10', 'gen_ai.usage.output_tokens': '1' },
  },
} satisfies Record<string, SpanSpec>;

// --- F: two runs side by side in one trace ----------------------------------------------------------
const F = 'f0000000000000000000000000000001';
const f = (n: number) => `f00000000000000${n.toString(16)}`;
const sf = { trace: F, service: 'sales-svc' };
const scorer = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'scorer', 'agent.workflow_id': 'lead_scoring' };
const F_SPANS = {
  http: { ...sf, id: f(1), name: 'POST /v1/batch', kind: 'Server', start: 90, dur: 10 },
  first: { ...sf, id: f(2), parent: f(1), name: 'invoke_agent scorer', start: 90.5, dur: 3, attrs: scorer },
  firstTool: { ...sf, id: f(3), parent: f(2), name: 'execute_tool crm_lookup', start: 91, dur: 1, attrs: tool('crm_lookup') },
  second: { ...sf, id: f(4), parent: f(1), name: 'invoke_agent scorer', start: 94, dur: 3, attrs: scorer },
  secondTool: { ...sf, id: f(5), parent: f(4), name: 'execute_tool web_search', start: 95, dur: 1, attrs: tool('web_search', { 'tool.cost_usd': '0.005' }) },
} satisfies Record<string, SpanSpec>;

let store: TempStore;
const clock = new ManualClock(T + 13 * MIN);

const insert = (spans: SpanSpec[]) => store.ch.insert('otel_traces', spans.map(exported));

async function agentRuns(): Promise<Record<string, unknown>[]> {
  // 64-bit integers are compared as Float64, sums of costs rounded to the nano-dollar.
  return store.ch.query(
    `SELECT * REPLACE (toString(timestamp) AS timestamp, toFloat64(input_tokens) AS input_tokens, toFloat64(output_tokens) AS output_tokens,
                       round(token_cost_usd, 9) AS token_cost_usd, round(tool_cost_usd, 9) AS tool_cost_usd)
     FROM agent_runs ORDER BY trace_id, timestamp`,
  );
}

const EMPTY = { tenant_id: '', agent_version: '', prompt_version: '', policy_version: '', output_schema_fingerprint: '', conversation_id: '' };

const EXPECTED_ROWS = [
  {
    timestamp: '2026-11-20 10:00:00.100000000', trace_id: A, run_id: 'run-A', workflow_id: 'support_triage', agent_id: 'agt-7', agent_version: '2.1.0',
    tenant_id: 'acme', environment: 'prod', service_name: 'support-svc', model: 'gpt-4.1', prompt_version: 'p-3', policy_version: 'pol-2',
    outcome: 'success', duration_ms: 7500, input_tokens: 2000, output_tokens: 400, token_cost_usd: 0.0069, tool_cost_usd: 0.047,
    tool_calls: { kb_search: 1, crm_lookup: 1, ticket_update: 1, payment_api: 2 },
    side_effects: { ticket_updated: 1, payment_processed: 1 },
    policy_allows: 1, policy_denials: 1, policy_escalations: 1, denied_rules: ['no_refund_promise', 'refund_limit'],
    output_schema_fingerprint: 'fp-aa', malformed_fields: 0, provider: 'openai', conversation_id: 'conv-1', tool_errors: { payment_api: 1 }, scores: {}, metrics: {}, attributes: {},
  },
  {
    ...EMPTY, timestamp: '2026-11-20 10:01:00.000000000', trace_id: B, run_id: `${B}-${b(1)}`, workflow_id: 'invoice_pipeline', agent_id: 'planner',
    agent_version: '1.0.0', environment: 'staging', service_name: 'billing-svc', model: 'claude-sonnet-4', outcome: 'error', duration_ms: 20000,
    input_tokens: 1300, output_tokens: 260, token_cost_usd: 0.0174, tool_cost_usd: 0, tool_calls: { lookup: 1, write_record: 1, validate: 1 },
    side_effects: { record_updated: 1 }, policy_allows: 0, policy_denials: 0, policy_escalations: 0, denied_rules: [], malformed_fields: 1,
    provider: 'anthropic', tool_errors: {}, scores: {}, metrics: {}, attributes: {},
  },
  {
    ...EMPTY, timestamp: '2026-11-20 10:02:00.000000000', trace_id: C, run_id: `${C}-${c(1)}`, workflow_id: 'support_triage', agent_id: 'triage-bot',
    environment: 'prod', service_name: 'support-svc', model: 'gpt-4.1', outcome: 'error', duration_ms: 30000, input_tokens: 1000, output_tokens: 100,
    token_cost_usd: 0.0028, tool_cost_usd: 0, tool_calls: { kb_search: 2 }, side_effects: {}, policy_allows: 0, policy_denials: 0, policy_escalations: 0,
    denied_rules: [], malformed_fields: 0, provider: 'openai', tool_errors: {}, scores: {}, metrics: {}, attributes: {},
  },
  // The view's row, from the summary; the rollup adds nothing to it.
  {
    ...EMPTY, timestamp: '2026-11-20 10:02:30.000000000', trace_id: D, run_id: 'run-D', workflow_id: 'invoice_enrichment', agent_id: 'enricher',
    environment: 'prod', service_name: 'billing-svc', model: '', outcome: 'success', duration_ms: 4000, input_tokens: 900, output_tokens: 90,
    token_cost_usd: 0.02, tool_cost_usd: 0, tool_calls: { enrich_company: 2 }, side_effects: {}, policy_allows: 0, policy_denials: 0,
    policy_escalations: 0, denied_rules: [], malformed_fields: 0, provider: '', tool_errors: {}, scores: {}, metrics: {}, attributes: {},
  },
  {
    ...EMPTY, timestamp: '2026-11-20 10:02:40.000000000', trace_id: G, run_id: 'run-G', workflow_id: 'wf-g', agent_id: 'lead',
    environment: 'prod', service_name: 'misc-svc', model: '', outcome: 'success', duration_ms: 5000, input_tokens: 0, output_tokens: 0,
    token_cost_usd: 0, tool_cost_usd: 0, tool_calls: { x: 1 }, side_effects: {}, policy_allows: 0, policy_denials: 0,
    policy_escalations: 0, denied_rules: [], malformed_fields: 0, provider: '', tool_errors: {}, scores: {}, metrics: {}, attributes: {},
  },
  ...[
    { ts: '2026-11-20 10:01:30.500000000', id: f(2), calls: { crm_lookup: 1 }, cost: 0 },
    { ts: '2026-11-20 10:01:34.000000000', id: f(4), calls: { web_search: 1 }, cost: 0.005 },
  ].map((r) => ({
    ...EMPTY, timestamp: r.ts, trace_id: F, run_id: `${F}-${r.id}`, workflow_id: 'lead_scoring', agent_id: 'scorer', environment: 'prod',
    service_name: 'sales-svc', model: '', outcome: 'success', duration_ms: 3000, input_tokens: 0, output_tokens: 0, token_cost_usd: 0,
    tool_cost_usd: r.cost, tool_calls: r.calls, side_effects: {}, policy_allows: 0, policy_denials: 0, policy_escalations: 0, denied_rules: [],
    malformed_fields: 0, provider: '', tool_errors: {}, scores: {}, metrics: {}, attributes: {},
  })),
];

beforeAll(async () => {
  store = await openTempStore();
  await createIngestProbe(store.ch);
  // Arrival order: children before their parents, C's run span last, A's kb_search span twice.
  await insert([A_SPANS.crm, C_SPANS.chat, C_SPANS.tool]);
  await insert([...Object.values(A_SPANS).filter((s) => s !== A_SPANS.crm), A_SPANS.kb]);
  await insert([...Object.values(B_SPANS), ...Object.values(D_SPANS), ...Object.values(G_SPANS), ...Object.values(E_SPANS), ...Object.values(F_SPANS)]);
  await insert([C_SPANS.run]);
  // At 10:08, inside C's lateness allowance (it ended at 10:02:30; its pass runs at 10:13).
  await insert([C_SPANS.lateInside]);
}, 120_000);

afterAll(async () => {
  await store?.ch.close();
});

describe('span rollup', () => {
  const job = () => new RollupJob({ ch: store.ch, names: store.names, clock, logger: silentLogger, settings: SETTINGS, firstLookbackMs: 60 * MIN });

  it('the daemon job rolls up every run once its lateness has passed, field by field', async () => {
    const j = job();
    j.start();
    await clock.tick(); // the first tick is due at once
    await j.idle();
    await j.stop();
    expect(clock.pendingTimers).toBe(0);
    expect(await agentRuns()).toEqual(EXPECTED_ROWS);
    // The rollup's passes insert with the views in parallel; D's and G's rows came from the
    // summary view, on the test's own span INSERT (ClickHouse's default: in turn).
    expect(await ingestProbeRuns(store.ch)).toEqual(
      EXPECTED_ROWS.map((r) => [r.run_id, ['run-D', 'run-G'].includes(r.run_id) ? 0 : 1]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  });

  it('a span arriving after the allowance is not counted, and nothing is written twice', async () => {
    await insert([C_SPANS.lateAfter]);
    await clock.advance(7 * MIN); // 10:20
    const passes = await job().runOnce();
    expect(passes.map((p) => [new Date(p.fromMs).toISOString(), new Date(p.toMs).toISOString(), p.counters.runs])).toEqual([
      ['2026-11-20T10:03:00.000Z', '2026-11-20T10:10:00.000Z', 0],
    ]);
    expect(await agentRuns()).toEqual(EXPECTED_ROWS);
  });

  it('a backfill over the same period writes nothing again', async () => {
    const r = await rollupRange(store.ch, store.names, {
      fromMs: T - 60 * MIN,
      toMs: T + 10 * MIN,
      chunkMs: 60 * MIN,
      mode: 'backfill',
      at: clock.now(),
      lookbackMs: SETTINGS.maxRunDurationMs,
      prices: SETTINGS.prices,
    });
    expect(r.passes).toBe(2);
    expect(r.counters).toEqual({
      spans: 29, // A 9 (the duplicate once), B 10, C 5 (the late span is there now), F 5; D and G are the view's
      runs: 5,
      runs_written: 0,
      runs_already_present: 5,
      runs_summarized: 2,
      spans_outside_runs: 2,
      spans_without_run: 1,
      nested_agents: 0,
      malformed_runs: 0,
      unpriced_model_calls: 0,
    });
    expect(await agentRuns()).toEqual(EXPECTED_ROWS);
  });

  it('status sums what every pass saw, wrote and skipped', async () => {
    const s = await storeStatus(store.ch, store.names);
    expect(s.spanTable).toEqual({ kind: 'map', problem: null, events: true });
    expect(s.rollup).toEqual({
      passes: 4,
      scheduledUpTo: '2026-11-20 10:10:00.000',
      lastPassAt: '2026-11-20 10:20:00.000',
      counters: {
        spans: 28 + 29,
        runs: 5 + 5,
        runs_written: 5,
        runs_already_present: 5,
        runs_summarized: 2 + 2,
        spans_outside_runs: 2 + 2,
        spans_without_run: 1 + 1,
        nested_agents: 3,
        malformed_runs: 1,
        unpriced_model_calls: 1,
      },
    });
  });
});

describe("the exporter's JSON mode", () => {
  const names: StoreNames = { database: 'json_mode', ...DEFAULT_NAMES };

  beforeAll(async () => {
    await store.ch.command('CREATE DATABASE IF NOT EXISTS json_mode');
    // The exporter's traces table with json: true (its traces_json_table.sql, abridged).
    await store.ch.command(`CREATE TABLE json_mode.otel_traces (
        Timestamp DateTime64(9), TraceId String, SpanId String, ParentSpanId String, TraceState String,
        SpanName LowCardinality(String), SpanKind LowCardinality(String), ServiceName LowCardinality(String),
        ResourceAttributes JSON, ScopeName String, ScopeVersion String, SpanAttributes JSON,
        Duration UInt64, StatusCode LowCardinality(String), StatusMessage String)
      ENGINE = MergeTree PARTITION BY toDate(Timestamp) ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))`);
  });

  it('migrate creates the view on it, and status says it is read', async () => {
    const steps = await migrate(store.ch, names);
    expect(steps.find((s) => s.object === 'json_mode.agent_runs_from_otel')).toEqual({ object: 'json_mode.agent_runs_from_otel', kind: 'materialized view', action: 'created' });
    expect((await storeStatus(store.ch, names)).spanTable).toEqual({ kind: 'json', problem: null, events: false });
  });

  it('the view and the rollup read it: the same rows as from Map columns', async () => {
    // Every trace but C, whose late span the Map-mode store counted only after its run was written.
    const spans = [A_SPANS, B_SPANS, D_SPANS, G_SPANS, E_SPANS, F_SPANS].flatMap((x) => Object.values(x) as SpanSpec[]);
    await store.ch.insert('json_mode.otel_traces', spans.map(exported));
    const r = await rollupRange(store.ch, names, { fromMs: T - 60 * MIN, toMs: T + 10 * MIN, chunkMs: 60 * MIN, mode: 'backfill', at: T + 30 * MIN, lookbackMs: SETTINGS.maxRunDurationMs, prices: SETTINGS.prices });
    expect(r.counters).toMatchObject({ runs: 4, runs_written: 4, runs_summarized: 2, spans_without_run: 1 });
    const rows = await store.ch.query(
      `SELECT * REPLACE (toString(timestamp) AS timestamp, toFloat64(input_tokens) AS input_tokens, toFloat64(output_tokens) AS output_tokens,
                         round(token_cost_usd, 9) AS token_cost_usd, round(tool_cost_usd, 9) AS tool_cost_usd)
       FROM json_mode.agent_runs ORDER BY trace_id, timestamp`,
    );
    expect(rows).toEqual(EXPECTED_ROWS.filter((row) => row.trace_id !== C));
  });

  it('the refusal for the older, experimental Object(\'json\') type says what to change', () => {
    const old: StoreNames = { database: 'object_json', ...DEFAULT_NAMES };
    expect(jsonModeMessage(old)).toBe(
      "object_json.otel_traces stores span attributes in the experimental Object('json') type (an old ClickHouse exporter with json: true), which agentdrift cannot read: " +
        'no runs are taken from it. In the Collector config, remove json: true from the clickhouse exporter (and the clickhouse.json feature gate, if set) ' +
        'and set traces_table_name to a new table, e.g. otel_traces_map; set tables.otel_traces: otel_traces_map in agentdrift.yaml; ' +
        'then run agentdrift migrate, and agentdrift rollup --from --to for the period already exported.',
    );
  });
});
