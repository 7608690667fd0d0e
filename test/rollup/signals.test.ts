/**
 * Scores, metrics and attributes from plain GenAI traces (the span rollup): evaluation events on any
 * span of a run (and on spans outside it when the trace holds one run), the run span's prefixed
 * attributes and JSON forms, unreadable values counted in malformed_fields; the same rows from the
 * exporter's JSON mode (its full DDL, events included); configured prefixes.
 * T = 2026-11-20 10:00:00 UTC.
 *
 *   S1  an HTTP root with an evaluation (one run in the trace: it counts for the run), an agent span
 *       with attributes and metrics under the default prefixes and agent.run.scores, a chat span with
 *       two evaluations of one name, a tool span with an unreadable score, a nested agent whose own
 *       attributes are not the run's
 *   S2  an HTTP root with an evaluation and two runs side by side: the root's evaluation is neither's
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollupRange } from '../../src/rollup/pass.js';
import { migrate } from '../../src/store/migrate.js';
import type { StoreNames } from '../../src/store/schema.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { exportedSpan, type SpanSpec } from '../helpers/otelSpans.js';

const T = Date.parse('2026-11-20T10:00:00Z');
const MIN = 60_000;
const evaluation = (name: string, value: string) => ({ name: 'gen_ai.evaluation.result', attrs: { 'gen_ai.evaluation.name': name, 'gen_ai.evaluation.score.value': value } });
const agent = (name: string, extra: Record<string, string> = {}) => ({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, ...extra });

const S1 = '51000000000000000000000000000001';
const S2 = '52000000000000000000000000000001';
const SPANS: SpanSpec[] = [
  { trace: S1, service: 'svc', id: '5100000000000001', name: 'POST /ask', kind: 'Server', start: 0, dur: 10, events: [evaluation('user_feedback', '1')] },
  {
    trace: S1, service: 'svc', id: '5100000000000002', parent: '5100000000000001', name: 'invoke_agent helper', start: 0.1, dur: 9,
    attrs: agent('helper', {
      'agent.run_id': 'run-S1', 'agent.workflow_id': 'qa',
      'agent.attributes.customer.tier': 'gold', 'agent.metrics.retrieved_docs': '3', 'agent.metrics.budget': 'plenty',
      'agent.run.scores': '{"judge": 0.5}',
    }),
  },
  {
    trace: S1, service: 'svc', id: '5100000000000003', parent: '5100000000000002', name: 'chat gpt-4.1', start: 0.2, dur: 1,
    attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4.1' }, events: [evaluation('relevance', '0.75'), evaluation('relevance', '0.25')],
  },
  { trace: S1, service: 'svc', id: '5100000000000004', parent: '5100000000000002', name: 'execute_tool search', start: 1.5, dur: 1, attrs: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }, events: [evaluation('relevance', 'high')] },
  {
    trace: S1, service: 'svc', id: '5100000000000005', parent: '5100000000000002', name: 'invoke_agent inner', start: 3, dur: 2,
    attrs: agent('inner', { 'agent.attributes.inner': 'x', 'agent.metrics.inner': '1', 'agent.metrics.bad_inner': 'y' }), events: [evaluation('groundedness', '0.5')],
  },
  { trace: S2, service: 'svc', id: '5200000000000001', name: 'POST /batch', kind: 'Server', start: 20, dur: 10, events: [evaluation('user_feedback', '0')] },
  { trace: S2, service: 'svc', id: '5200000000000002', parent: '5200000000000001', name: 'invoke_agent a', start: 20.5, dur: 3, attrs: agent('a', { 'agent.run_id': 'run-S2a' }), events: [evaluation('relevance', '1')] },
  { trace: S2, service: 'svc', id: '5200000000000003', parent: '5200000000000001', name: 'invoke_agent b', start: 24, dur: 3, attrs: agent('b', { 'agent.run_id': 'run-S2b', 'agent.metrics.n': '2' }) },
];

const EXPECTED = [
  {
    run_id: 'run-S1',
    // judge from agent.run.scores; relevance: 0.75 and 0.25 (0.5), the tool's unreadable one left out;
    // groundedness from the nested agent; the HTTP root's feedback (the trace's only run).
    scores: { judge: 0.5, relevance: 0.5, groundedness: 0.5, user_feedback: 1 },
    metrics: { retrieved_docs: 3 },
    attributes: { 'customer.tier': 'gold' },
    // agent.metrics.budget and the tool's score
    malformed_fields: 2,
  },
  { run_id: 'run-S2a', scores: { relevance: 1 }, metrics: {}, attributes: {}, malformed_fields: 0 },
  { run_id: 'run-S2b', scores: {}, metrics: { n: 2 }, attributes: {}, malformed_fields: 0 },
];

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

async function rollUp(names: StoreNames) {
  return rollupRange(store.ch, names, { fromMs: T - 10 * MIN, toMs: T + 10 * MIN, chunkMs: 60 * MIN, mode: 'backfill', at: T + 30 * MIN, lookbackMs: 60 * MIN, prices: [] });
}

const rowsOf = (database: string) =>
  store.ch.query<Record<string, unknown>>(`SELECT run_id, scores, metrics, attributes, malformed_fields FROM \`${database}\`.agent_runs ORDER BY run_id`);

describe('scores, metrics and attributes from plain GenAI traces', () => {
  it('the rollup reads evaluation events on any span of the run and the run span prefixed attributes', async () => {
    await store.ch.insert('otel_traces', SPANS.map((s) => exportedSpan(T, s)));
    const r = await rollUp(store.names);
    expect(r.counters).toMatchObject({ runs_written: 3, malformed_runs: 1 });
    expect(await rowsOf('default')).toEqual(EXPECTED);
  });

  it("the exporter's JSON mode (events as Array(JSON)) gives the same rows", async () => {
    await store.ch.command('CREATE DATABASE IF NOT EXISTS json_full');
    // The exporter's traces_json_table.sql (json: true), its columns as written there.
    await store.ch.command(`CREATE TABLE json_full.otel_traces (
        Timestamp DateTime64(9), TraceId String, SpanId String, ParentSpanId String, TraceState String,
        SpanName LowCardinality(String), SpanKind LowCardinality(String), ServiceName LowCardinality(String),
        ResourceAttributes JSON, ScopeName String, ScopeVersion String, SpanAttributes JSON,
        Duration UInt64, StatusCode LowCardinality(String), StatusMessage String,
        Events Nested (Timestamp DateTime64(9), Name LowCardinality(String), Attributes JSON),
        Links Nested (TraceId String, SpanId String, TraceState String, Attributes JSON))
      ENGINE = MergeTree PARTITION BY toDate(Timestamp) ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)`);
    const names: StoreNames = { ...store.names, database: 'json_full' };
    await migrate(store.ch, names, { aggregates: { enabled: false, dimensions: [] } });
    await store.ch.insert('json_full.otel_traces', SPANS.map((s) => exportedSpan(T, s)));
    await rollUp(names);
    expect(await rowsOf('json_full')).toEqual(EXPECTED);
    // The view reads the same on a summarized root span: events, prefixed attributes and metrics.
    await store.ch.insert('json_full.otel_traces', [
      exportedSpan(T, {
        trace: '53000000000000000000000000000001', service: 'svc', id: '5300000000000001', name: 'invoke_agent s', start: 40, dur: 1,
        attrs: agent('s', { 'agent.run_id': 'run-S3', 'agent.run.outcome': 'success', 'agent.attributes.plan': 'pro', 'agent.metrics.steps': '4', 'agent.metrics.bad': 'z' }),
        events: [evaluation('relevance', '0.5'), evaluation('relevance', '1')],
      }),
    ]);
    const [s3] = await store.ch.query<Record<string, unknown>>("SELECT scores, metrics, attributes, malformed_fields FROM json_full.agent_runs WHERE run_id = 'run-S3'");
    expect(s3).toEqual({ scores: { relevance: 0.75 }, metrics: { steps: 4 }, attributes: { plan: 'pro' }, malformed_fields: 1 });
  });

  it('reads the configured prefixes (bound as parameters)', async () => {
    await store.ch.command('CREATE DATABASE IF NOT EXISTS custom_prefixes');
    const names: StoreNames = { ...store.names, database: 'custom_prefixes', prefixes: { attributes: 'app.dim.', metrics: 'app.num.' } };
    await migrate(store.ch, names, { aggregates: { enabled: false, dimensions: [] } });
    await store.ch.insert('custom_prefixes.otel_traces', [
      exportedSpan(T, { trace: '54000000000000000000000000000001', service: 'svc', id: '5400000000000001', name: 'invoke_agent p', start: 50, dur: 1, attrs: agent('p', { 'agent.run_id': 'run-S4', 'app.dim.team': 'core', 'app.num.n': '1.5', 'agent.attributes.old': 'x' }) }),
    ]);
    await rollUp(names);
    expect(await rowsOf('custom_prefixes')).toEqual([{ run_id: 'run-S4', scores: {}, metrics: { n: 1.5 }, attributes: { team: 'core' }, malformed_fields: 0 }]);
    await expect(rollUp({ ...names, prefixes: { attributes: "x'.", metrics: 'm.' } })).rejects.toThrow(/not an attribute prefix/);
  });
});
