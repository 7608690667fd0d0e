/**
 * Runs from the traces other instrumentation families write (docs/design/trace-dialects-research.md
 * has what each writes, read from their sources): one trace per family, stored as the Collector's
 * ClickHouse exporter stores it, rolled up with no configuration, each agent_runs row checked field
 * by field against the numbers worked out here. T = 2026-11-20 10:00:00 UTC; prices: gpt-4.1 at
 * 2 / 8 / 0.5 (cache reads) USD per million tokens, claude-sonnet-4 at 3 / 15 / 0.3 / 3.75 (cache writes).
 *
 *   OI  OpenInference, LangGraph: a CHAIN root `LangGraph` (the graph), CHAIN nodes, an LLM span with
 *       llm.token_count.* and a cache read, two TOOL spans (one failed), session.id
 *   OL  OpenLLMetry decorators (traceloop-sdk): `support.workflow` (traceloop.span.kind=workflow)
 *       > `triage.agent` > `kb_search.tool`, and an `openai.chat` span of an instrumentation before
 *       0.55 (llm.request.type=chat, gen_ai.system, gen_ai.usage.prompt_tokens/completion_tokens)
 *   VA  Vercel AI SDK v4: `ai.generateText` (functionId `invoice-agent`, run totals in ai.usage.*) >
 *       two `ai.generateText.doGenerate` steps (gen_ai.system=openai.chat, gen_ai.usage.*) and an
 *       `ai.toolCall`
 *   PA  Pydantic AI, instrumentation format 2: `agent run` (agent_name) > `chat gpt-4.1` >
 *       `running tool` (gen_ai.tool.name), failing (status Error)
 *   MX  an OpenInference LangGraph root calling a service traced with GenAI spans: one run
 *   RT  retried tool calls with a gen_ai.tool.call.id
 *   CW  a prompt-cache write priced at its own price, and an embeddings call
 *   TJ  Vercel AI SDK spans a wrapper re-tagged `chat` (Traceloop's JS SDK), with a tenant in metadata
 *   PC  Pydantic AI's gen_ai.agent.call.id
 *   OV  a team's own attributes (app.flow, org.id) mapped by rollup.attributes
 *   LG  OpenLLMetry's LangGraph agent span (gen_ai.operation.name=invoke_agent) naming its framework
 *       as gen_ai.provider.name=langgraph: the provider is the model spans' (openai)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollupRange } from '../../src/rollup/pass.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { exportedSpan, type SpanSpec } from '../helpers/otelSpans.js';

const T = Date.parse('2026-11-20T10:00:00Z');
const MIN = 60_000;
const PRICES = [
  { model: 'gpt-4.1', inputPerMillion: 2, outputPerMillion: 8, cacheReadPerMillion: 0.5 },
  { model: 'claude-sonnet-4', inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: 0.3, cacheWritePerMillion: 3.75 },
];

const exported = (s: SpanSpec) => exportedSpan(T, s);

const id = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(16 - prefix.length, '0')}`;

// --- OI: OpenInference, LangGraph ----------------------------------------------------------------
const OI = '01000000000000000000000000000001';
const oi = (n: number) => id('01', n);
const soi = { trace: OI, service: 'graph-svc', scope: 'openinference.instrumentation.langchain' };
const OI_SPANS: SpanSpec[] = [
  { ...soi, id: oi(1), name: 'LangGraph', start: 0, dur: 6, status: 'Ok', attrs: { 'openinference.span.kind': 'CHAIN', 'session.id': 'thread-9', metadata: '{"langgraph_step":1}' } },
  { ...soi, id: oi(2), parent: oi(1), name: 'agent', start: 0.1, dur: 2, attrs: { 'openinference.span.kind': 'CHAIN' } },
  // (1000 - 100) * 2 + 100 * 0.5 + 200 * 8 = 3450 micro-USD
  {
    ...soi, id: oi(3), parent: oi(2), name: 'ChatOpenAI', start: 0.2, dur: 1.5,
    attrs: { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4.1', 'llm.provider': 'openai', 'llm.system': 'openai', 'llm.token_count.prompt': '1000', 'llm.token_count.completion': '200', 'llm.token_count.total': '1200', 'llm.token_count.prompt_details.cache_read': '100' },
  },
  { ...soi, id: oi(4), parent: oi(1), name: 'tools', start: 2.2, dur: 3, attrs: { 'openinference.span.kind': 'CHAIN' } },
  { ...soi, id: oi(5), parent: oi(4), name: 'search', start: 2.3, dur: 1, attrs: { 'openinference.span.kind': 'TOOL', 'tool.name': 'search' } },
  { ...soi, id: oi(6), parent: oi(4), name: 'lookup_order', start: 3.4, dur: 1, status: 'Error', attrs: { 'openinference.span.kind': 'TOOL', 'tool.name': 'lookup_order' } },
];

// --- OL: OpenLLMetry decorators ------------------------------------------------------------------
const OL = '02000000000000000000000000000001';
const ol = (n: number) => id('02', n);
const sol = { trace: OL, service: 'support-svc', scope: 'traceloop.tracer' };
const OL_SPANS: SpanSpec[] = [
  { ...sol, id: ol(1), name: 'support.workflow', start: 10, dur: 5, attrs: { 'traceloop.span.kind': 'workflow', 'traceloop.workflow.name': 'support', 'traceloop.entity.name': 'support' } },
  { ...sol, id: ol(2), parent: ol(1), name: 'triage.agent', start: 10.1, dur: 4.5, attrs: { 'traceloop.span.kind': 'agent', 'traceloop.workflow.name': 'support', 'traceloop.entity.name': 'triage' } },
  // 500 * 2 + 50 * 8 = 1400 micro-USD
  {
    ...sol, id: ol(3), parent: ol(2), name: 'openai.chat', start: 10.2, dur: 1,
    attrs: { 'llm.request.type': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.prompt_tokens': '500', 'gen_ai.usage.completion_tokens': '50', 'llm.usage.total_tokens': '550', 'traceloop.workflow.name': 'support' },
  },
  { ...sol, id: ol(4), parent: ol(2), name: 'kb_search.tool', start: 11.5, dur: 0.5, attrs: { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'kb_search', 'traceloop.workflow.name': 'support' } },
  { ...sol, id: ol(5), parent: ol(2), name: 'kb_search.tool', start: 12.5, dur: 0.5, attrs: { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'kb_search', 'traceloop.workflow.name': 'support' } },
];

// --- VA: Vercel AI SDK v4 ----------------------------------------------------------------------
const VA = '03000000000000000000000000000001';
const va = (n: number) => id('03', n);
const sva = { trace: VA, service: 'next-app', scope: 'ai' };
const vercel = (op: string, extra: Record<string, string>) => ({ 'ai.operationId': op, 'operation.name': `${op} invoice-agent`, 'resource.name': 'invoice-agent', 'ai.telemetry.functionId': 'invoice-agent', 'ai.model.provider': 'openai.chat', 'ai.model.id': 'gpt-4.1', ...extra });
const VA_SPANS: SpanSpec[] = [
  // The root carries the run's totals (ai.usage.*): they are not added to the steps' tokens.
  { ...sva, id: va(1), name: 'ai.generateText', start: 20, dur: 4, attrs: vercel('ai.generateText', { 'ai.usage.promptTokens': '1100', 'ai.usage.completionTokens': '130', 'ai.telemetry.metadata.tenant': 'acme' }) },
  // 600 * 2 + 60 * 8 = 1680 micro-USD
  { ...sva, id: va(2), parent: va(1), name: 'ai.generateText.doGenerate', start: 20.1, dur: 1, attrs: vercel('ai.generateText.doGenerate', { 'gen_ai.system': 'openai.chat', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.input_tokens': '600', 'gen_ai.usage.output_tokens': '60', 'ai.usage.promptTokens': '600', 'ai.usage.completionTokens': '60' }) },
  { ...sva, id: va(3), parent: va(1), name: 'ai.toolCall', start: 21.2, dur: 0.5, attrs: vercel('ai.toolCall', { 'ai.toolCall.name': 'fetch_invoice', 'ai.toolCall.id': 'call_1', 'ai.toolCall.args': '{"id":"inv-1"}' }) },
  // 500 * 2 + 70 * 8 = 1560 micro-USD
  { ...sva, id: va(4), parent: va(1), name: 'ai.generateText.doGenerate', start: 21.8, dur: 1.5, attrs: vercel('ai.generateText.doGenerate', { 'gen_ai.system': 'openai.chat', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.input_tokens': '500', 'gen_ai.usage.output_tokens': '70', 'ai.usage.promptTokens': '500', 'ai.usage.completionTokens': '70' }) },
];

// --- PA: Pydantic AI, instrumentation format 2 -----------------------------------------------------
const PA = '04000000000000000000000000000001';
const pa = (n: number) => id('04', n);
const spa = { trace: PA, service: 'py-agent', scope: 'pydantic-ai' };
const PA_SPANS: SpanSpec[] = [
  { ...spa, id: pa(1), name: 'agent run', start: 30, dur: 3, status: 'Error', attrs: { agent_name: 'weather_agent', model_name: 'gpt-4.1', 'logfire.msg': 'weather_agent run' } },
  // 300 * 2 + 30 * 8 = 840 micro-USD
  { ...spa, id: pa(2), parent: pa(1), name: 'chat gpt-4.1', start: 30.1, dur: 1, attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.input_tokens': '300', 'gen_ai.usage.output_tokens': '30' } },
  { ...spa, id: pa(3), parent: pa(1), name: 'running tool', start: 31.2, dur: 0.5, status: 'Error', attrs: { 'gen_ai.tool.name': 'get_forecast', 'gen_ai.tool.call.id': 'call_7', 'logfire.msg': 'running tool: get_forecast' } },
];

// --- LG: OpenLLMetry's LangGraph agent span -------------------------------------------------------
const LG = '05000000000000000000000000000001';
const lg = (n: number) => id('05', n);
const slg = { trace: LG, service: 'graph-svc', scope: 'opentelemetry.instrumentation.langchain' };
const LG_SPANS: SpanSpec[] = [
  // gen_ai.agent.id is the LangChain run's UUID (new every run): the agent is its name.
  {
    ...slg, id: lg(1), name: 'invoke_agent research', start: 40, dur: 3,
    attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'research', 'gen_ai.agent.id': '1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'gen_ai.provider.name': 'langgraph', 'traceloop.workflow.name': 'research' },
  },
  // 200 * 2 + 20 * 8 = 560 micro-USD
  { ...slg, id: lg(2), parent: lg(1), name: 'chat gpt-4.1', start: 40.5, dur: 1, attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.input_tokens': '200', 'gen_ai.usage.output_tokens': '20' } },
];

// --- MX: a LangGraph app traced by OpenInference calling a service traced with GenAI spans ------------
const MX = '06000000000000000000000000000001';
const mx = (n: number) => id('06', n);
const MX_SPANS: SpanSpec[] = [
  { trace: MX, service: 'graph-svc', scope: 'openinference.instrumentation.langchain', id: mx(1), name: 'LangGraph', start: 50, dur: 5, attrs: { 'openinference.span.kind': 'CHAIN' } },
  { trace: MX, service: 'graph-svc', scope: 'openinference.instrumentation.langchain', id: mx(2), parent: mx(1), name: 'call_billing', start: 50.1, dur: 4, attrs: { 'openinference.span.kind': 'TOOL', 'tool.name': 'call_billing' } },
  { trace: MX, service: 'billing-svc', scope: 'opentelemetry.instrumentation.genai', id: mx(3), parent: mx(2), name: 'invoke_agent biller', start: 50.2, dur: 3, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'biller' } },
  // 100 * 2 + 10 * 8 = 280 micro-USD
  { trace: MX, service: 'billing-svc', scope: 'opentelemetry.instrumentation.genai', id: mx(4), parent: mx(3), name: 'chat gpt-4.1', start: 50.3, dur: 1, attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.input_tokens': '100', 'gen_ai.usage.output_tokens': '10' } },
  { trace: MX, service: 'billing-svc', scope: 'opentelemetry.instrumentation.genai', id: mx(5), parent: mx(3), name: 'execute_tool charge', start: 51.5, dur: 0.5, attrs: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'charge' } },
];

// --- RT: retried tool calls with a call id (gen_ai.tool.call.id) ----------------------------------------
const RT = '07000000000000000000000000000001';
const rt = (n: number) => id('07', n);
const srt = { trace: RT, service: 'pay-svc', scope: 'opentelemetry.instrumentation.genai' };
const call = (name: string, callId: string) => ({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, ...(callId ? { 'gen_ai.tool.call.id': callId } : {}) });
const RT_SPANS: SpanSpec[] = [
  { ...srt, id: rt(1), name: 'invoke_agent payer', start: 60, dur: 9, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'payer' } },
  // call_1 failed, then its retry succeeded: one call, no error.
  { ...srt, id: rt(2), parent: rt(1), name: 'execute_tool charge', start: 60.5, dur: 1, status: 'Error', attrs: call('charge', 'call_1') },
  { ...srt, id: rt(3), parent: rt(1), name: 'execute_tool charge', start: 62, dur: 1, attrs: call('charge', 'call_1') },
  // call_2 succeeded, then was retried and failed (arriving first): one call, failed.
  { ...srt, id: rt(5), parent: rt(1), name: 'execute_tool refund', start: 65, dur: 1, status: 'Error', attrs: call('refund', 'call_2') },
  { ...srt, id: rt(4), parent: rt(1), name: 'execute_tool refund', start: 63.5, dur: 1, attrs: call('refund', 'call_2') },
  // Without a call id each span is a call: two calls, one failed.
  { ...srt, id: rt(6), parent: rt(1), name: 'execute_tool notify', start: 66.5, dur: 0.5, status: 'Error', attrs: call('notify', '') },
  { ...srt, id: rt(7), parent: rt(1), name: 'execute_tool notify', start: 67.5, dur: 0.5, attrs: call('notify', '') },
];

// --- CW: prompt-cache writes priced as writes (gen_ai.usage.cache_creation.input_tokens) ----------------
const CW = '08000000000000000000000000000001';
const cw = (n: number) => id('08', n);
const scw = { trace: CW, service: 'doc-svc', scope: 'opentelemetry.instrumentation.genai' };
const CW_SPANS: SpanSpec[] = [
  { ...scw, id: cw(1), name: 'invoke_agent summarizer', start: 70, dur: 4, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'summarizer' } },
  // 2000 input tokens of which 1200 written to the cache and 500 read from it:
  // 300 * 3 + 500 * 0.3 + 1200 * 3.75 + 100 * 15 = 900 + 150 + 4500 + 1500 = 7050 micro-USD
  {
    ...scw, id: cw(2), parent: cw(1), name: 'chat claude-sonnet-4', start: 70.5, dur: 2,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4', 'gen_ai.usage.input_tokens': '2000', 'gen_ai.usage.output_tokens': '100', 'gen_ai.usage.cache_read.input_tokens': '500', 'gen_ai.usage.cache_creation.input_tokens': '1200' },
  },
  // An embedding call is a model call: 400 * 2 = 800 micro-USD.
  { ...scw, id: cw(3), parent: cw(1), name: 'embeddings gpt-4.1', start: 73, dur: 0.5, attrs: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.input_tokens': '400' } },
];

// --- TJ: Vercel AI SDK spans re-tagged by Traceloop's JS SDK (root and step both `chat`) -----------------
const TJ = '09000000000000000000000000000001';
const tj = (n: number) => id('09', n);
const stj = { trace: TJ, service: 'next-app', scope: 'ai' };
const TJ_SPANS: SpanSpec[] = [
  {
    ...stj, id: tj(1), name: 'ai.generateText', start: 80, dur: 2,
    attrs: vercel('ai.generateText', { 'gen_ai.operation.name': 'chat', 'ai.telemetry.metadata.tenant_id': 'globex', 'ai.usage.promptTokens': '100', 'ai.usage.completionTokens': '10' }),
  },
  { ...stj, id: tj(2), parent: tj(1), name: 'ai.generateText.doGenerate', start: 80.1, dur: 1.5, attrs: vercel('ai.generateText.doGenerate', { 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai.chat', 'gen_ai.request.model': 'gpt-4.1', 'gen_ai.usage.input_tokens': '100', 'gen_ai.usage.output_tokens': '10' }) },
];

// --- PC: Pydantic AI (1.75 and later) names each agent call: gen_ai.agent.call.id is the run id ----------
const PC = '0a000000000000000000000000000001';
const pc = (n: number) => id('0a', n);
const PC_SPANS: SpanSpec[] = [
  { trace: PC, service: 'py-agent', scope: 'pydantic-ai', id: pc(1), name: 'invoke_agent weather_agent', start: 85, dur: 1, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'weather_agent', 'gen_ai.agent.call.id': 'call-42' } },
];

// --- OV: a team's own attributes, mapped by rollup.attributes (read before the built-in ones) ----------
const OV = '0b000000000000000000000000000001';
const ov = (n: number) => id('0b', n);
const ATTRIBUTES = { workflow_id: ['app.flow'], tenant_id: ['customer.id', 'org.id'] };
const OV_SPANS: SpanSpec[] = [
  {
    trace: OV, service: 'ops-svc', scope: 'custom', id: ov(1), name: 'invoke_agent ops', start: 90, dur: 1,
    attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'ops', 'agent.workflow_id': 'generic', 'app.flow': 'billing_v2', 'org.id': 'initech' },
  },
];

let store: TempStore;

async function row(trace: string): Promise<Record<string, unknown>> {
  const rows = await store.ch.query(
    `SELECT run_id, workflow_id, agent_id, environment, service_name, model, provider, outcome, duration_ms, toFloat64(input_tokens) AS input_tokens,
            toFloat64(output_tokens) AS output_tokens, round(token_cost_usd, 9) AS token_cost_usd, tool_calls, tool_errors, conversation_id, malformed_fields
     FROM agent_runs WHERE trace_id = {t:String}`,
    { t: trace },
  );
  expect(rows, `one row for trace ${trace}`).toHaveLength(1);
  return rows[0]!;
}

beforeAll(async () => {
  store = await openTempStore();
  await store.ch.insert('otel_traces', [...OI_SPANS, ...OL_SPANS, ...VA_SPANS, ...PA_SPANS, ...LG_SPANS, ...MX_SPANS, ...RT_SPANS, ...CW_SPANS, ...TJ_SPANS, ...PC_SPANS, ...OV_SPANS].map(exported));
  const r = await rollupRange(store.ch, store.names, { fromMs: T - MIN, toMs: T + 2 * MIN, chunkMs: 3 * MIN, mode: 'backfill', at: T + 30 * MIN, lookbackMs: 10 * MIN, prices: PRICES, attributes: ATTRIBUTES });
  expect(r.counters.runs).toBe(11);
});
afterAll(async () => {
  await store?.ch.close();
});

describe('runs from other instrumentation families, with no configuration', () => {
  it('OpenInference (LangGraph): the CHAIN root is the run; LLM tokens and cache reads, TOOL calls and a failed one', async () => {
    expect(await row(OI)).toEqual({
      run_id: `${OI}-${oi(1)}`, workflow_id: 'LangGraph', agent_id: '', environment: 'prod', service_name: 'graph-svc', model: 'gpt-4.1', provider: 'openai',
      outcome: 'success', duration_ms: 6000, input_tokens: 1000, output_tokens: 200, token_cost_usd: 0.00345,
      tool_calls: { search: 1, lookup_order: 1 }, tool_errors: { lookup_order: 1 }, conversation_id: 'thread-9', malformed_fields: 0,
    });
  });

  it('OpenLLMetry decorators: the workflow span is the run, the agent its agent, tools by entity name, an older LLM span by llm.request.type', async () => {
    expect(await row(OL)).toEqual({
      run_id: `${OL}-${ol(1)}`, workflow_id: 'support', agent_id: 'triage', environment: 'prod', service_name: 'support-svc', model: 'gpt-4.1', provider: 'openai',
      outcome: 'success', duration_ms: 5000, input_tokens: 500, output_tokens: 50, token_cost_usd: 0.0014,
      tool_calls: { kb_search: 2 }, tool_errors: {}, conversation_id: '', malformed_fields: 0,
    });
  });

  it('Vercel AI SDK: generateText is the run (functionId), doGenerate its model calls (not the root totals again), ai.toolCall its tools', async () => {
    expect(await row(VA)).toEqual({
      run_id: `${VA}-${va(1)}`, workflow_id: 'invoice-agent', agent_id: 'invoice-agent', environment: 'prod', service_name: 'next-app', model: 'gpt-4.1', provider: 'openai',
      outcome: 'success', duration_ms: 4000, input_tokens: 1100, output_tokens: 130, token_cost_usd: 0.00324,
      tool_calls: { fetch_invoice: 1 }, tool_errors: {}, conversation_id: '', malformed_fields: 0,
    });
  });

  it('Pydantic AI (format 2): `agent run` is the run, `running tool` a tool call, its error status an error', async () => {
    expect(await row(PA)).toEqual({
      run_id: `${PA}-${pa(1)}`, workflow_id: 'weather_agent', agent_id: 'weather_agent', environment: 'prod', service_name: 'py-agent', model: 'gpt-4.1', provider: 'openai',
      outcome: 'error', duration_ms: 3000, input_tokens: 300, output_tokens: 30, token_cost_usd: 0.00084,
      tool_calls: { get_forecast: 1 }, tool_errors: { get_forecast: 1 }, conversation_id: '', malformed_fields: 0,
    });
  });

  it('a mixed trace (OpenInference graph calling a GenAI-traced service) is one run, counted once', async () => {
    expect(await row(MX)).toMatchObject({
      run_id: `${MX}-${mx(1)}`, workflow_id: 'LangGraph', agent_id: 'biller', service_name: 'graph-svc', model: 'gpt-4.1', input_tokens: 100, output_tokens: 10,
      token_cost_usd: 0.00028, tool_calls: { call_billing: 1, charge: 1 },
    });
  });

  it('attempts of one tool call id are one call, failed as its last attempt went; calls without an id count per span', async () => {
    expect(await row(RT)).toMatchObject({ tool_calls: { charge: 1, refund: 1, notify: 2 }, tool_errors: { refund: 1, notify: 1 } });
  });

  it('prompt-cache writes are priced as writes, reads as reads; an embedding call counts as a model call', async () => {
    expect(await row(CW)).toMatchObject({ input_tokens: 2400, output_tokens: 100, token_cost_usd: 0.00785, malformed_fields: 0 });
  });

  it('a Vercel AI SDK call re-tagged `chat` by a wrapper is still the run; its tenant from ai.telemetry.metadata.tenant_id', async () => {
    const [r] = await store.ch.query<Record<string, unknown>>(`SELECT tenant_id, toFloat64(input_tokens) AS input_tokens, run_id FROM agent_runs WHERE trace_id = {t:String}`, { t: TJ });
    expect(r).toEqual({ tenant_id: 'globex', input_tokens: 100, run_id: `${TJ}-${tj(1)}` });
  });

  it('Pydantic AI\'s gen_ai.agent.call.id is the run id', async () => {
    expect(await row(PC)).toMatchObject({ run_id: 'call-42', workflow_id: 'weather_agent', agent_id: 'weather_agent' });
  });

  it('rollup.attributes: a team\'s own attributes fill a column before the built-in ones, in the order given', async () => {
    const [r] = await store.ch.query<Record<string, unknown>>(`SELECT workflow_id, tenant_id FROM agent_runs WHERE trace_id = {t:String}`, { t: OV });
    expect(r).toEqual({ workflow_id: 'billing_v2', tenant_id: 'initech' });
  });

  it('a framework named as the agent span\'s provider (langgraph) does not hide the model\'s provider; a per-run UUID agent id gives way to the name', async () => {
    expect(await row(LG)).toMatchObject({ workflow_id: 'research', agent_id: 'research', provider: 'openai', model: 'gpt-4.1', input_tokens: 200, output_tokens: 20, token_cost_usd: 0.00056 });
  });
});
