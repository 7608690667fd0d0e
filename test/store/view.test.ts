/**
 * The materialized view: otel_traces rows exactly as the Collector's ClickHouse exporter writes them
 * (every attribute a string, the exporter's column names and types) -> agent_runs rows, column by column.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { evaluationEvent, exporterRow, type SpanEvent } from '../helpers/otelSpans.js';
import { migrate } from '../../src/store/migrate.js';
import { viewComment, VIEW_VERSION } from '../../src/store/schema.js';

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

interface SpanInput {
  TraceId: string;
  SpanId?: string;
  ParentSpanId?: string;
  StatusCode?: string;
  ServiceName?: string;
  Timestamp?: string;
  Duration?: number;
  SpanAttributes: Record<string, string>;
  ResourceAttributes?: Record<string, string>;
  Events?: SpanEvent[];
}

function span(s: SpanInput) {
  return exporterRow({
    Timestamp: s.Timestamp ?? '2026-11-20T10:00:00.123456789Z',
    TraceId: s.TraceId,
    SpanId: s.SpanId ?? 'b7ad6b7169203331',
    ParentSpanId: s.ParentSpanId ?? '',
    SpanName: 'invoke_agent enricher',
    SpanKind: 'Internal',
    ServiceName: s.ServiceName ?? 'agents-svc',
    ResourceAttributes: s.ResourceAttributes ?? { 'deployment.environment.name': 'prod', 'service.name': 'agents-svc' },
    ScopeName: 'agent-harness',
    ScopeVersion: '1.0.0',
    SpanAttributes: { 'gen_ai.operation.name': 'invoke_agent', ...s.SpanAttributes },
    Duration: s.Duration ?? 2_500_000_000,
    StatusCode: s.StatusCode ?? 'Ok',
    StatusMessage: '',
    ...(s.Events ? { Events: s.Events } : {}),
  });
}

async function runsFor(traceId: string) {
  return store.ch.query<Record<string, unknown>>(
    // 64-bit integers travel as strings over HTTP and as numbers from chDB: compare them as Float64.
    `SELECT * REPLACE (toFloat64(input_tokens) AS input_tokens, toFloat64(output_tokens) AS output_tokens), toString(timestamp) AS ts
     FROM agent_runs WHERE trace_id = {t:String}`,
    { t: traceId },
  );
}

describe('root span -> agent_runs view', () => {
  it('maps a complete root span column by column', async () => {
    await store.ch.insert('otel_traces', [
      span({
        TraceId: '0af7651916cd43dd8448eb211c80319c',
        SpanAttributes: {
          'agent.run_id': 'run-001',
          'agent.workflow_id': 'invoice_enrichment',
          'gen_ai.agent.id': 'enricher',
          'gen_ai.agent.version': '3.2.0',
          'agent.tenant_id': 'acme',
          'gen_ai.request.model': 'gpt-4.1',
          'agent.prompt_version': 'p-17',
          'agent.policy_version': 'pol-4',
          'agent.run.outcome': 'success',
          'agent.run.input_tokens': '3120',
          'agent.run.output_tokens': '640',
          'agent.run.token_cost_usd': '0.0412',
          'agent.run.tool_cost_usd': '0.004',
          'agent.run.tool_calls': '{"crm_lookup": 1, "enrich_company": 2}',
          'agent.run.side_effects': '{"record_updated": 1}',
          'agent.run.policy.allows': '3',
          'agent.run.policy.denials': '1',
          'agent.run.policy.escalations': '0',
          'agent.run.policy.denied_rules': '["no_pii_export"]',
          'agent.run.output_schema_fingerprint': 'fp-3f9a',
          'agent.run.tool_errors': '{"enrich_company": 1}',
          'gen_ai.provider.name': 'openai',
          'gen_ai.conversation.id': 'conv-9',
        },
      }),
    ]);
    const [row] = await runsFor('0af7651916cd43dd8448eb211c80319c');
    expect(row).toMatchObject({
      ts: '2026-11-20 10:00:00.123456789',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      run_id: 'run-001',
      workflow_id: 'invoice_enrichment',
      agent_id: 'enricher',
      agent_version: '3.2.0',
      tenant_id: 'acme',
      environment: 'prod',
      service_name: 'agents-svc',
      model: 'gpt-4.1',
      prompt_version: 'p-17',
      policy_version: 'pol-4',
      outcome: 'success',
      duration_ms: 2500,
      input_tokens: 3120,
      output_tokens: 640,
      token_cost_usd: 0.0412,
      tool_cost_usd: 0.004,
      tool_calls: { crm_lookup: 1, enrich_company: 2 },
      side_effects: { record_updated: 1 },
      policy_allows: 3,
      policy_denials: 1,
      policy_escalations: 0,
      denied_rules: ['no_pii_export'],
      output_schema_fingerprint: 'fp-3f9a',
      malformed_fields: 0,
      provider: 'openai',
      conversation_id: 'conv-9',
      tool_errors: { enrich_company: 1 },
    });
  });

  it('applies the fallbacks: TraceId, gen_ai.* names, deployment.environment, gen_ai.usage.*, StatusCode', async () => {
    // Each carries one agent.run.* attribute: a summary, however small, is what the view takes.
    await store.ch.insert('otel_traces', [
      span({
        TraceId: 'f00000000000000000000000000000a1',
        StatusCode: 'Error',
        ResourceAttributes: { 'deployment.environment': 'staging' },
        SpanAttributes: {
          'gen_ai.workflow.name': 'support_triage',
          'gen_ai.agent.name': 'triage-bot',
          'gen_ai.usage.input_tokens': '100',
          'gen_ai.usage.output_tokens': '20',
          'gen_ai.system': 'anthropic',
          'agent.run.output_schema_fingerprint': 'fp-1',
        },
      }),
      span({
        TraceId: 'f00000000000000000000000000000a2',
        StatusCode: 'STATUS_CODE_ERROR', // older exporter versions
        SpanAttributes: { 'agent.workflow_id': 'w', 'agent.run.tool_calls': '{}' },
      }),
      span({ TraceId: 'f00000000000000000000000000000a3', StatusCode: 'Unset', SpanAttributes: { 'agent.workflow_id': 'w', 'agent.run.tool_calls': '{}' } }),
    ]);
    const [a] = await runsFor('f00000000000000000000000000000a1');
    expect(a).toMatchObject({
      run_id: 'f00000000000000000000000000000a1',
      workflow_id: 'support_triage',
      agent_id: 'triage-bot',
      environment: 'staging',
      outcome: 'error',
      input_tokens: 100,
      output_tokens: 20,
      tool_calls: {},
      denied_rules: [],
      malformed_fields: 0,
      provider: 'anthropic',
    });
    expect((await runsFor('f00000000000000000000000000000a2'))[0]).toMatchObject({ outcome: 'error' });
    expect((await runsFor('f00000000000000000000000000000a3'))[0]).toMatchObject({ outcome: 'success' });
  });

  it('keeps the batch when spans are malformed, and counts what it could not read', async () => {
    await store.ch.insert('otel_traces', [
      span({
        TraceId: 'bad00000000000000000000000000001',
        SpanAttributes: {
          'agent.workflow_id': 'w_bad',
          'agent.run.token_cost_usd': 'twelve cents', // not a number
          'agent.run.tool_cost_usd': '-1', // negative cost: unreadable
          'agent.run.tool_calls': '{"crm_lookup": 1,', // broken JSON
          'agent.run.side_effects': '[1,2]', // JSON, but not an object
          'agent.run.policy.denials': 'NaN',
          'agent.run.policy.denied_rules': 'no_pii_export', // not a JSON array
          'agent.run.input_tokens': '12abc',
        },
      }),
      span({ TraceId: 'bad00000000000000000000000000002', SpanAttributes: { 'agent.workflow_id': 'w_bad', 'agent.run.token_cost_usd': '0.5' } }),
    ]);
    const [bad] = await runsFor('bad00000000000000000000000000001');
    expect(bad).toMatchObject({
      workflow_id: 'w_bad',
      token_cost_usd: 0,
      tool_cost_usd: 0,
      tool_calls: {},
      side_effects: {},
      policy_denials: 0,
      denied_rules: [],
      input_tokens: 0,
      malformed_fields: 7,
    });
    const [good] = await runsFor('bad00000000000000000000000000002');
    expect(good).toMatchObject({ token_cost_usd: 0.5, malformed_fields: 0 });
  });

  it('fills scores from evaluation events (the mean per name), metrics and attributes from prefixed attributes and the JSON forms', async () => {
    const at = '2026-11-20T10:00:01Z';
    await store.ch.insert('otel_traces', [
      span({
        TraceId: 'e0000000000000000000000000000001',
        SpanAttributes: {
          'agent.workflow_id': 'w_eval',
          'agent.run.outcome': 'success',
          'agent.attributes.customer.tier': 'gold',
          'agent.attributes.region': 'eu',
          'agent.metrics.retrieved_docs': '12',
          'agent.metrics.latency_budget': ' -0.5 ',
          'agent.run.scores': '{"helpfulness": 4, "relevance": "1"}',
          'agent.run.metrics': '{"steps": 7}',
          'agent.run.attributes': '{"region": "us", "plan": "pro", "seats": 5}',
          // Not under a prefix: neither an attribute nor a metric.
          'agent.attribute.x': '1',
        },
        Events: [
          evaluationEvent(at, 'relevance', '0.75'),
          evaluationEvent(at, 'relevance', '0.5', { 'gen_ai.evaluation.score.label': 'relevant' }),
          evaluationEvent(at, 'groundedness', '1'),
          // A label only: no score, not malformed.
          { Timestamp: at, Name: 'gen_ai.evaluation.result', Attributes: { 'gen_ai.evaluation.name': 'tone', 'gen_ai.evaluation.score.label': 'polite' } },
          // Another event is not an evaluation.
          { Timestamp: at, Name: 'gen_ai.content.prompt', Attributes: { 'gen_ai.evaluation.name': 'x', 'gen_ai.evaluation.score.value': '5' } },
        ],
      }),
    ]);
    const [row] = await runsFor('e0000000000000000000000000000001');
    expect(row).toMatchObject({
      // relevance: 1 (JSON form), 0.75 and 0.5 (events): their mean
      scores: { relevance: 0.75, groundedness: 1, helpfulness: 4 },
      metrics: { retrieved_docs: 12, latency_budget: -0.5, steps: 7 },
      // The prefixed attribute wins over the JSON form's member of the same key.
      attributes: { 'customer.tier': 'gold', region: 'eu', plan: 'pro', seats: '5' },
      malformed_fields: 0,
    });
  });

  it('counts unreadable scores and metrics in malformed_fields and leaves them out, never failing the insert', async () => {
    const at = '2026-11-20T10:00:01Z';
    await store.ch.insert('otel_traces', [
      span({
        TraceId: 'e0000000000000000000000000000002',
        SpanAttributes: {
          'agent.workflow_id': 'w_eval',
          'agent.run.outcome': 'success',
          'agent.metrics.good': '3',
          'agent.metrics.bad': 'lots', // 1
          'agent.metrics.inf': 'inf', // 2
          'agent.run.scores': '{"ok": 1, "judge": "n/a"}', // 3
          'agent.run.metrics': '[1]', // 4: not an object
          'agent.run.attributes': 'tier=gold', // 5: not JSON
        },
        Events: [
          evaluationEvent(at, 'relevance', 'high'), // 6
          evaluationEvent(at, 'relevance', '0.4'),
          evaluationEvent(at, '', '0.4'), // 7: a score without a name
        ],
      }),
    ]);
    const [row] = await runsFor('e0000000000000000000000000000002');
    expect(row).toMatchObject({ scores: { relevance: 0.4, ok: 1 }, metrics: { good: 3 }, attributes: {}, malformed_fields: 7 });
  });

  it('ignores child spans and root spans that are not agent invocations', async () => {
    await store.ch.insert('otel_traces', [
      span({ TraceId: 'c0000000000000000000000000000001', ParentSpanId: 'b7ad6b7169203331', SpanAttributes: { 'gen_ai.operation.name': 'execute_tool' } }),
      { ...span({ TraceId: 'c0000000000000000000000000000002', SpanAttributes: {} }), SpanAttributes: { 'http.method': 'GET' } },
    ]);
    expect(await runsFor('c0000000000000000000000000000001')).toHaveLength(0);
    expect(await runsFor('c0000000000000000000000000000002')).toHaveLength(0);
  });

  it('leaves root spans without an agent.run.* summary to the span rollup', async () => {
    await store.ch.insert('otel_traces', [
      span({ TraceId: 'c0000000000000000000000000000003', SpanAttributes: { 'gen_ai.agent.name': 'bot', 'agent.run_id': 'r-3', 'gen_ai.usage.input_tokens': '5' } }),
    ]);
    expect(await runsFor('c0000000000000000000000000000003')).toHaveLength(0);
  });

  it('migrate is idempotent', async () => {
    const steps = await migrate(store.ch, store.names);
    expect(steps.map((s) => `${s.action} ${s.object}`)).toEqual([
      'exists default',
      'exists default.agent_runs',
      'exists default.otel_traces',
      'exists default.agent_runs_from_otel',
      'exists default.agent_runs_rollup_log',
      'exists default.agent_runs_rollup_input',
      'exists default.agent_runs_rollup_write',
      'exists default.agent_runs_rollup_count',
      'exists default.run_scores',
      'exists default.agent_runs_scores_log',
      'exists default.agent_runs_agg_5m_totals',
      'exists default.agent_runs_agg_5m_keyed',
      'exists default.agent_runs_agg_1h_totals',
      'exists default.agent_runs_agg_1h_keyed',
      'exists default.agent_runs_agg_1d_totals',
      'exists default.agent_runs_agg_1d_keyed',
    ]);
  });

  it('migrate replaces the view when the prefixes change, and the new ones are read', async () => {
    await store.ch.command('CREATE DATABASE IF NOT EXISTS prefixed');
    const names = { ...store.names, database: 'prefixed' };
    const noAggregates = { aggregates: { enabled: false, dimensions: [] } };
    await migrate(store.ch, names, noAggregates);
    const custom = { ...names, prefixes: { attributes: 'app.dim.', metrics: 'app.num/' + 'v.' } };
    const steps = await migrate(store.ch, custom, noAggregates);
    expect(steps.find((s) => s.object === 'prefixed.agent_runs_from_otel')).toEqual({ object: 'prefixed.agent_runs_from_otel', kind: 'materialized view', action: 'updated', detail: VIEW_VERSION });
    const [view] = await store.ch.query<{ comment: string }>("SELECT comment FROM system.tables WHERE database = 'prefixed' AND name = 'agent_runs_from_otel'");
    expect(view!.comment).toBe(viewComment(custom));
    await store.ch.insert('prefixed.otel_traces', [
      span({ TraceId: 'e0000000000000000000000000000003', SpanAttributes: { 'agent.run.outcome': 'success', 'app.dim.team': 'core', 'app.num/v.n': '2', 'agent.attributes.team': 'old' } }),
    ]);
    const rows = await store.ch.query<Record<string, unknown>>('SELECT attributes, metrics FROM prefixed.agent_runs');
    expect(rows).toEqual([{ attributes: { team: 'core' }, metrics: { n: 2 } }]);
    expect(() => viewComment({ ...names, prefixes: { attributes: "x'.", metrics: 'm.' } })).toThrow(/not an attribute prefix/);
  });

  it('migrate brings a store from before the rollup up to date: new columns appended, the view narrowed', async () => {
    await store.ch.command('CREATE DATABASE IF NOT EXISTS old_store');
    const old = { ...store.names, database: 'old_store' };
    // agent_runs and the view as the previous release created them (without aggregates, whose views
    // read the columns dropped below).
    const noAggregates = { aggregates: { enabled: false, dimensions: [] } };
    await migrate(store.ch, old, noAggregates);
    for (const c of ['provider', 'conversation_id', 'tool_errors', 'scores', 'metrics', 'attributes']) await store.ch.command(`ALTER TABLE old_store.agent_runs DROP COLUMN ${c}`);
    await store.ch.command('DROP VIEW old_store.agent_runs_from_otel');
    await store.ch.command(`CREATE MATERIALIZED VIEW old_store.agent_runs_from_otel TO old_store.agent_runs AS
      SELECT Timestamp AS timestamp, TraceId AS trace_id, TraceId AS run_id FROM old_store.otel_traces
      WHERE ParentSpanId = '' AND SpanAttributes['gen_ai.operation.name'] = 'invoke_agent'`);
    const steps = await migrate(store.ch, old, noAggregates);
    expect(steps.filter((s) => s.action !== 'exists' && !s.object.includes('_agg_'))).toEqual([
      { object: 'old_store.agent_runs', kind: 'table', action: 'updated', detail: 'added columns provider, conversation_id, tool_errors, scores, metrics, attributes' },
      { object: 'old_store.agent_runs_from_otel', kind: 'materialized view', action: 'updated', detail: VIEW_VERSION },
    ]);
    await store.ch.insert('old_store.otel_traces', [
      span({ TraceId: 'c0000000000000000000000000000004', SpanAttributes: { 'gen_ai.agent.name': 'bot' } }),
      span({ TraceId: 'c0000000000000000000000000000005', SpanAttributes: { 'gen_ai.agent.name': 'bot', 'agent.run.tool_errors': '{"t": 2}' } }),
    ]);
    const rows = await store.ch.query<Record<string, unknown>>('SELECT trace_id, tool_errors FROM old_store.agent_runs ORDER BY trace_id');
    expect(rows).toEqual([{ trace_id: 'c0000000000000000000000000000005', tool_errors: { t: 2 } }]);
    expect((await migrate(store.ch, old, noAggregates)).every((s) => s.action === 'exists' || s.object.includes('_agg_'))).toBe(true);
  });
});
